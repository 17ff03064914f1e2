// Self-checking testbench of rtl/label_select/label_select.sv: random vectors (many with
// ties), a C++ reference (stable sort on the negated values, the first K indices), every
// output word compared bit-exactly under random input gaps and output back-pressure; at
// full rate the cycle count must be exactly W + K + (V-1)*max(W, K) for V vectors of
// W = LABELS/PE words (the formula documented in label_select.sv).
//
// Options: the module parameters in lower case (--labels=, --pe=, --k=, --in_bits=,
//          --in_signed=, --out_bits=, --num_vectors=), as BUILD.bazel passes them;
//          --seed=S; --expect_failure (mutation test: pass only if some scenario fails).
#include <algorithm>
#include <numeric>

#include "Vdut.h"
#include "rtl/common/tb/bits.hpp"
#include "rtl/common/tb/options.hpp"
#include "rtl/common/tb/rng.hpp"
#include "rtl/common/tb/scenarios.hpp"
#include "rtl/common/tb/stream.hpp"
#include "rtl/common/tb/traffic.hpp"

namespace {

struct Config {
  int labels, pe, k, in_bits, out_bits, vectors;
  bool in_signed;
  uint64_t seed;
  int words() const { return labels / pe; }
  int64_t vmin() const { return in_signed ? -(int64_t{1} << (in_bits - 1)) : 0; }
  int64_t vmax() const { return in_signed ? (int64_t{1} << (in_bits - 1)) - 1 : (int64_t{1} << in_bits) - 1; }
};

// The reference: indices of the K largest values, largest first, ties by lower index.
std::vector<int64_t> top_k(const std::vector<int64_t>& x, int k) {
  std::vector<int64_t> order(x.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return x[a] > x[b]; });
  order.resize(k);
  return order;
}

// Value mixes: all distinct-ish (full range), heavy ties (3 values), all equal, extremes.
std::vector<int64_t> random_vector(const Config& c, tb::Rng& rng, int kind) {
  std::vector<int64_t> x(c.labels);
  std::vector<int64_t> few = {rng.uniform(c.vmin(), c.vmax()), rng.uniform(c.vmin(), c.vmax()),
                              rng.uniform(c.vmin(), c.vmax())};
  for (auto& v : x) {
    switch (kind) {
      case 0: v = rng.uniform(c.vmin(), c.vmax()); break;
      case 1: v = few[rng.uniform(0, 2)]; break;
      case 2: v = few[0]; break;
      default: v = rng.chance(0.5) ? c.vmin() : c.vmax(); break;
    }
  }
  return x;
}

std::string run(const Config& c, const tb::Traffic& traffic, uint64_t seed) {
  tb::Rng rng(seed);
  // Several frames of NUM_VECTORS vectors, back to back: at least 60 vectors.
  const int n_vectors = c.vectors * std::max(2, (60 + c.vectors - 1) / c.vectors);
  std::vector<tb::Bits> in, want;
  for (int v = 0; v < n_vectors; ++v) {
    int kind = v % 8 < 3 ? 0 : v % 8 < 6 ? 1 : v % 8 == 6 ? 2 : 3;
    auto x = random_vector(c, rng, kind);
    for (int w = 0; w < c.words(); ++w)
      in.push_back(tb::pack(std::vector<int64_t>(x.begin() + w * c.pe, x.begin() + (w + 1) * c.pe), c.in_bits));
    for (int64_t idx : top_k(x, c.k)) want.push_back(tb::pack({idx}, c.out_bits));
  }
  auto r = tb::run_stream<Vdut>(in, want.size(), c.out_bits, traffic, seed + 1, 60 * (long)in.size() + 1000);
  if (!r.error.empty()) return r.error;
  std::string diff = tb::compare_words(r.out, want, [&](std::size_t i) {
    return "vector " + std::to_string(i / c.k) + ", rank " + std::to_string(i % c.k);
  });
  if (!diff.empty()) return diff;
  if (traffic.full_rate()) {
    long w = c.words(), k = c.k;
    long expected = w + k + (n_vectors - 1) * std::max(w, k);
    if (r.cycles() != expected)
      return "full rate: " + std::to_string(n_vectors) + " vectors took " + std::to_string(r.cycles()) +
             " cycles, expected W + K + (V-1)*max(W, K) = " + std::to_string(expected);
  }
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  tb::Options opt(argc, argv);
  Config c{static_cast<int>(opt.require("labels")),   static_cast<int>(opt.require("pe")),
           static_cast<int>(opt.require("k")),        static_cast<int>(opt.require("in_bits")),
           static_cast<int>(opt.require("out_bits")), static_cast<int>(opt.require("num_vectors")),
           opt.require("in_signed") != 0,             static_cast<uint64_t>(opt.get("seed", 1))};
  const auto scenarios = tb::traffic_scenarios(
      tb::standard_traffic(), [&c](const tb::Traffic& t, int i) { return run(c, t, c.seed * 1000 + i); });
  return tb::run_scenarios("label_select_tb", scenarios, opt.flag("expect_failure"));
}
