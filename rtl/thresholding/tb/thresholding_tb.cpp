// Self-checking testbench of rtl/thresholding/thresholding.sv: random thresholds and
// inputs, a C++ reference model, every output word compared bit-exactly, under random
// input gaps and output back-pressure; at full rate the cycle count must be exactly
// words + 3 (the latency documented in thresholding.sv).
//
// Options: the module parameters in lower case (--num_channels=, --pe=, --num_vectors=,
//          --in_bits=, --in_signed=, --n_thres=, --thr_bits=, --out_bits=, --act_val=,
//          --out_bipolar=, --shared=, --thres_file=NAME, --runtime_writeable=), as
//          BUILD.bazel passes them; --seed=S; --expect_failure (mutation test: pass only
//          if some scenario fails).
//
// RUNTIME_WRITEABLE = 1: the threshold file holds zeros (URAM ignores it), and each
// scenario first writes the thresholds through s_axilite (rtl/common/tb/axilite.hpp:
// random AXI-lite timing, words in reverse order), then streams as above.
//
// The threshold file: THRES_FILE is a compile-time parameter holding a relative name. The
// testbench moves into a fresh directory (under $TEST_TMPDIR when Bazel runs it) and,
// for every scenario, writes new random thresholds to that name before it constructs the
// model; Verilator runs $readmemh in the model's initial block at the first eval(), so
// each scenario's model reads its own thresholds. Nothing outside the test's temporary
// directory is read or written.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <functional>

#include "Vdut.h"
#include "rtl/common/tb/axilite.hpp"
#include "rtl/common/tb/bits.hpp"
#include "rtl/common/tb/hex.hpp"
#include "rtl/common/tb/options.hpp"
#include "rtl/common/tb/rng.hpp"
#include "rtl/common/tb/scenarios.hpp"
#include "rtl/common/tb/stream.hpp"
#include "rtl/common/tb/traffic.hpp"

namespace {

constexpr long kLatency = 3;  // thresholding.sv: input handshake -> output handshake

struct Config {
  int channels, pe, vectors, in_bits, n_thres, thr_bits, out_bits;
  bool in_signed, bipolar, shared, writeable;
  int64_t act_val;
  std::string file;
  uint64_t seed;
  int folds() const { return channels / pe; }
  int64_t xmin() const { return in_signed ? -(int64_t{1} << (in_bits - 1)) : 0; }
  int64_t xmax() const { return in_signed ? (int64_t{1} << (in_bits - 1)) - 1 : (int64_t{1} << in_bits) - 1; }
  int64_t tmin() const { return -(int64_t{1} << (thr_bits - 1)); }
  int64_t tmax() const { return (int64_t{1} << (thr_bits - 1)) - 1; }
};

// Rows of ascending thresholds (the compiler's contract), mostly inside the input range
// so that comparisons go both ways, sometimes anywhere including the extremes.
std::vector<std::vector<int64_t>> random_thresholds(const Config& c, tb::Rng& rng) {
  std::vector<std::vector<int64_t>> t(c.shared ? 1 : c.channels, std::vector<int64_t>(c.n_thres));
  int64_t lo = std::max(c.tmin(), c.xmin() - 1), hi = std::min(c.tmax(), c.xmax() + 1);
  for (auto& row : t) {
    for (auto& v : row) {
      if (rng.chance(0.75)) v = rng.uniform(lo, hi);
      else if (rng.chance(0.5)) v = rng.chance(0.5) ? c.tmin() : c.tmax();
      else v = rng.uniform(c.tmin(), c.tmax());
    }
    std::sort(row.begin(), row.end());
  }
  return t;
}

int mem_width(const Config& c) { return c.pe * c.n_thres * c.thr_bits; }

// The memory words as documented in thresholding.sv. SHARED: the row in every lane
// (replicate) or in lane 0 only; the module must read lane 0 either way.
std::vector<tb::Bits> threshold_words(const Config& c, const std::vector<std::vector<int64_t>>& t, bool replicate) {
  std::vector<tb::Bits> words;
  int width = mem_width(c);
  int depth = c.shared ? 1 : c.folds();
  for (int cf = 0; cf < depth; ++cf) {
    tb::Bits w((width + 31) / 32, 0);
    for (int p = 0; p < c.pe; ++p) {
      if (c.shared && p > 0 && !replicate) continue;
      const auto& row = t[c.shared ? 0 : cf * c.pe + p];
      for (int k = 0; k < c.n_thres; ++k)
        tb::put_field(w, (p * c.n_thres + k) * c.thr_bits, c.thr_bits, row[k]);
    }
    words.push_back(w);
  }
  return words;
}

// Writes `words` through s_axilite, last word first, with random timing.
std::string write_axilite(Vdut& dut, const Config& c, const std::vector<tb::Bits>& words, uint64_t seed) {
  const tb::AxiLiteMap map{mem_width(c), static_cast<int>(words.size())};
  tb::AxiLiteMaster<Vdut> m(seed, {3, 0.6, 1.0});
  for (size_t i = words.size(); i-- > 0;)
    for (auto [a, d] : map.word_writes(static_cast<long>(i), words[i])) m.write(a, d);
  return tb::axilite_run(dut, m, 40L * static_cast<long>(m.writes_queued()) + 100);
}

// The reference model: out = ACT_VAL + #{t : x >= T[t]}, or the bipolar bit x >= T[0].
int64_t activate(const Config& c, const std::vector<int64_t>& row, int64_t x) {
  if (c.bipolar) return x >= row[0] ? 1 : 0;
  int64_t n = 0;
  for (int64_t v : row) n += x >= v;
  return c.act_val + n;
}

std::string run(const Config& c, const tb::Traffic& traffic, uint64_t seed, bool replicate) {
  tb::Rng rng(seed);
  auto t = random_thresholds(c, rng);
  const auto words = threshold_words(c, t, replicate);
  const std::vector<tb::Bits> zeros(words.size(), tb::zero_bits(mem_width(c)));
  tb::write_hex_words(c.file, c.writeable ? zeros : words, mem_width(c));
  const int per_frame = c.vectors * c.folds();
  const int frames = std::max(2, (600 + per_frame - 1) / per_frame);
  std::vector<tb::Bits> in, want;
  for (int f = 0; f < frames; ++f) {
    for (int v = 0; v < c.vectors; ++v) {
      for (int cf = 0; cf < c.folds(); ++cf) {
        std::vector<int64_t> x(c.pe), y(c.pe);
        for (int p = 0; p < c.pe; ++p) {
          const auto& row = t[c.shared ? 0 : cf * c.pe + p];
          const double u = rng.unit();
          if (u < 0.45) x[p] = rng.uniform(c.xmin(), c.xmax());
          else if (u < 0.9) x[p] = std::clamp(row[rng.uniform(0, c.n_thres - 1)] + rng.uniform(-1, 1), c.xmin(), c.xmax());
          else x[p] = rng.chance(0.5) ? c.xmin() : c.xmax();
          y[p] = activate(c, row, x[p]);
        }
        in.push_back(tb::pack(x, c.in_bits));
        want.push_back(tb::pack(y, c.out_bits));
      }
    }
  }
  std::function<std::string(Vdut&)> setup;
  if (c.writeable) setup = [&](Vdut& dut) { return write_axilite(dut, c, words, seed + 2); };
  auto r = tb::run_stream<Vdut>(in, want.size(), c.pe * c.out_bits, traffic, seed + 1, 60 * (long)in.size() + 1000,
                                setup);
  if (!r.error.empty()) return r.error;
  std::string diff = tb::compare_words(r.out, want, [&](std::size_t i) {
    return "pixel " + std::to_string(i / c.folds()) + ", channel fold " + std::to_string(i % c.folds());
  });
  if (!diff.empty()) return diff;
  if (traffic.full_rate() && r.cycles() != (long)in.size() + kLatency)
    return "full rate: " + std::to_string(in.size()) + " words took " + std::to_string(r.cycles()) +
           " cycles, expected words + latency = " + std::to_string(in.size() + kLatency);
  return "";
}

// A fresh directory for the threshold files, so that runs never share one.
void enter_scratch_dir() {
  const char* base = std::getenv("TEST_TMPDIR");
  std::string tmpl = std::string(base ? base : "/tmp") + "/thresholding_tb.XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (!mkdtemp(buf.data()) || chdir(buf.data()) != 0) {
    std::perror("testbench: cannot create a scratch directory");
    std::exit(2);
  }
}

}  // namespace

int main(int argc, char** argv) {
  tb::Options opt(argc, argv);
  Config c{static_cast<int>(opt.require("num_channels")), static_cast<int>(opt.require("pe")),
           static_cast<int>(opt.require("num_vectors")), static_cast<int>(opt.require("in_bits")),
           static_cast<int>(opt.require("n_thres")), static_cast<int>(opt.require("thr_bits")),
           static_cast<int>(opt.require("out_bits")), opt.require("in_signed") != 0,
           opt.require("out_bipolar") != 0, opt.require("shared") != 0, opt.get("runtime_writeable", 0) != 0,
           opt.require("act_val"),
           opt.require_text("thres_file"), static_cast<uint64_t>(opt.get("seed", 1))};
  if (c.file.find('/') != std::string::npos) {
    std::fprintf(stderr, "testbench: --thres_file must be a plain file name, got %s\n", c.file.c_str());
    return 2;
  }
  enter_scratch_dir();
  // SHARED: even-numbered patterns replicate the row in every lane, odd ones leave it in lane 0.
  const auto scenarios = tb::traffic_scenarios(tb::standard_traffic(), [&c](const tb::Traffic& t, int i) {
    return run(c, t, c.seed * 1000 + i, i % 2 == 0);
  });
  return tb::run_scenarios("thresholding_tb", scenarios, opt.flag("expect_failure"));
}
