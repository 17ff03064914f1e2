// Self-checking testbench for rtl/mvau/mvau.sv, one Verilated parameter set per binary.
//
// Options: every RTL parameter as --NAME=value (the BUILD file passes the same dict to
//          Verilator and here), plus
//          --seed=S          layer seed: weights and thresholds come from
//                            mvau::make_layer(params, S), exactly as mvau_gen wrote the
//                            memory files the simulator loads (WEIGHT_FILE/THRES_FILE,
//                            opened relative to the working directory, the runfiles root
//                            under `bazel test`)
//          --vectors=N       input vectors per random-traffic scenario (default: at least
//                            2 frames and 24 vectors)
//          --RUNTIME_WRITEABLE=1  the weight memory starts as zeros (or undefined, URAM):
//                            every scenario first writes the layer's weight words through
//                            s_axilite (rtl/common/tb/axilite.hpp), in a random word order
//                            with random AXI-lite timing, then streams
//          --expect_failure  mutation test: pass only if some scenario fails
//
// The expected output never comes from the memory files: a wrong file (or wrong RTL)
// shows up as a mismatch. In MEM_MODE "external" the testbench streams the weight memory
// words itself on s_axis_w, in order, repeated for every vector.
//
// Scenarios: full-rate single frame (exact cycle count NUM_VECTORS * SF * NF + LATENCY),
// full-rate frames back to back (at least 3 frames and 16 output words; exact count
// too), and random traffic (input gaps, weight-stream gaps, output back-pressure) in four
// mixes. With RUNTIME_WRITEABLE, two more: random words rewritten with their own values
// all through a run (writes while streaming may use old or new words, so only equal
// words keep the outputs defined): the stream must keep its order across every write.
// Every output word is checked bit-exactly, in order, none missing or extra; a
// presented output word must stay unchanged until taken.
#include <algorithm>
#include <cstdio>
#include <deque>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "Vdut.h"
#include "rtl/common/tb/axilite.hpp"
#include "rtl/common/tb/bits.hpp"
#include "rtl/common/tb/dut.hpp"
#include "rtl/common/tb/hex.hpp"
#include "rtl/common/tb/options.hpp"
#include "rtl/common/tb/rng.hpp"
#include "rtl/common/tb/scenarios.hpp"
#include "rtl/common/tb/stream.hpp"
#include "rtl/common/tb/traffic.hpp"
#include "rtl/mvau/tb/mvau_model.hpp"

namespace {

using AxiLite = tb::AxiLiteMaster<Vdut>;

class Bench {
 public:
  explicit Bench(const mvau::Params& p) : p_(p), ctx_(new VerilatedContext), dut_(new Vdut(ctx_.get())) {
    dut_->s_axis_tvalid = 0;
    dut_->s_axis_w_tvalid = 0;
    dut_->m_axis_tready = 0;
    tb::axilite_idle(*dut_);
    tb::reset(*dut_);
  }
  ~Bench() { dut_->final(); }

  struct Sample {
    bool in_fire, w_fire, out_fire, m_valid;
    tb::Bits out_data;
  };
  // `axil`, when given, drives s_axilite in the same cycle.
  Sample cycle(bool in_valid, const tb::Bits& in_data, bool w_valid, const tb::Bits& w_data, bool ready,
               AxiLite* axil = nullptr) {
    if (axil) axil->drive(*dut_);
    dut_->s_axis_tvalid = in_valid;
    tb::set_port(dut_->s_axis_tdata, in_data);
    dut_->s_axis_w_tvalid = w_valid;
    tb::set_port(dut_->s_axis_w_tdata, w_data);
    dut_->m_axis_tready = ready;
    dut_->clk = 0;
    dut_->eval();
    Sample s;
    s.in_fire = in_valid && dut_->s_axis_tready;
    s.w_fire = w_valid && dut_->s_axis_w_tready;
    s.m_valid = dut_->m_axis_tvalid;
    s.out_fire = s.m_valid && ready;
    s.out_data = tb::get_port(dut_->m_axis_tdata, p_.out_width());
    if (axil) axil->sample(*dut_);
    dut_->clk = 1;
    dut_->eval();
    ++cycles_;
    return s;
  }
  long cycles() const { return cycles_; }

  // Writes every weight word through s_axilite with the streams idle, words in a random
  // order; "" or the error.
  std::string write_weights(const std::vector<tb::Bits>& words, uint64_t seed) {
    const tb::AxiLiteMap map{p_.w_width(), static_cast<int>(words.size())};
    AxiLite m(seed, {3, 0.6, 1.0});
    std::vector<size_t> order(words.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    tb::Rng r(seed);
    for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[static_cast<size_t>(r.uniform(0, i - 1))]);
    for (size_t i : order)
      for (auto [a, d] : map.word_writes(static_cast<long>(i), words[i])) m.write(a, d);
    dut_->s_axis_tvalid = 0;
    dut_->s_axis_w_tvalid = 0;
    dut_->m_axis_tready = 0;
    return tb::axilite_run(*dut_, m, 40L * static_cast<long>(m.writes_queued()) + 100);
  }

 private:
  mvau::Params p_;
  std::unique_ptr<VerilatedContext> ctx_;
  std::unique_ptr<Vdut> dut_;
  long cycles_ = 0;
};

std::string fmt(const char* f, long a = 0, long b = 0, long c = 0, long d = 0) {
  char buf[320];
  std::snprintf(buf, sizeof buf, f, a, b, c, d);
  return buf;
}

// Streams `n_vectors` vectors (the first two at the input type's extremes) and checks
// every output word. With `expect_cycles` >= 0, also checks the cycles from the first
// input handshake to the last output handshake, inclusive.
// With `writeable`, the weights are first written through s_axilite; with `rewrite` too,
// random weight words are rewritten with their own values throughout the run.
std::string run(const mvau::Layer& L, long n_vectors, const tb::Traffic& tr, uint64_t seed, long expect_cycles,
                const std::string& label, bool writeable = false, bool rewrite = false) {
  const mvau::Params& p = L.p;
  const bool external = p.MEM_MODE == "external";
  tb::Rng r(seed);
  tb::Rng rng(seed ^ 0x5eed);

  std::deque<tb::Bits> in_words, expected;
  std::set<int64_t> values;  // distinct output values: a test that sees one value proves little
  for (long v = 0; v < n_vectors; ++v) {
    auto x = mvau::make_input(p, r, v < 2 ? static_cast<int>(v) + 1 : 0);
    auto out = L.compute(x);
    values.insert(out.begin(), out.end());
    for (auto& w : L.input_words(x)) in_words.push_back(w);
    for (auto& w : L.output_words(out)) expected.push_back(w);
  }
  const size_t want_values = p.NO_ACT ? 2 : std::min<size_t>(p.N_THRES + 1, 3);
  if (n_vectors > 2 && values.size() < want_values)
    return fmt("weak stimulus: only %ld distinct output values", static_cast<long>(values.size()));
  const std::vector<tb::Bits> w_mem = L.weight_words();
  const long total_out = static_cast<long>(expected.size());

  Bench b(p);
  if (writeable) {
    std::string err = b.write_weights(w_mem, seed ^ 0xa71);
    if (!err.empty()) return "writing the weights: " + err;
  }
  const tb::AxiLiteMap wmap{p.w_width(), static_cast<int>(w_mem.size())};
  AxiLite axil(seed ^ 0x3e3, {4, 0.7, 1.0});
  long rewrites = 0;
  bool in_presenting = false, w_presenting = false;
  tb::OutputHold hold;
  tb::Bits in_cur, w_cur = tb::zero_bits(p.w_width());
  size_t w_next = 0;
  long received = 0, first_in = -1, last_out = -1;
  const double slowest = std::min({tr.p_valid, tr.p_ready, external ? tr.p_side : 1.0});
  const long limit = static_cast<long>((n_vectors * p.cycles_per_vector() * 4 + 200) / slowest);
  const tb::Bits idle = tb::zero_bits(p.in_width());

  // Run until every word is out, then some more cycles to catch extra words.
  long drain = -1;
  while (drain != 0) {
    if (b.cycles() > limit) return fmt("timeout: %ld of %ld output words after %ld cycles", received, total_out, b.cycles());
    if (!in_presenting && !in_words.empty() && rng.chance(tr.p_valid)) {
      in_cur = in_words.front();
      in_words.pop_front();
      in_presenting = true;
    }
    if (external && !w_presenting && rng.chance(tr.p_side)) {
      w_cur = w_mem[w_next];
      w_next = (w_next + 1) % w_mem.size();
      w_presenting = true;
    }
    const bool ready = drain > 0 || rng.chance(tr.p_ready);
    if (rewrite && drain < 0 && axil.idle()) {
      const long i = static_cast<long>(rng.bits(32)[0] % w_mem.size());
      for (auto [a, d] : wmap.word_writes(i, w_mem[i])) axil.write(a, d);
      ++rewrites;
    }
    auto s = b.cycle(in_presenting, in_presenting ? in_cur : idle, w_presenting, w_cur, ready,
                     rewrite ? &axil : nullptr);
    if (!axil.error().empty()) return axil.error();
    if (!hold.ok(s.m_valid, ready, s.out_data))
      return fmt("cycle %ld: output word changed or withdrawn before it was taken", b.cycles());
    if (s.out_fire) {
      if (expected.empty()) return fmt("cycle %ld: extra output word ", b.cycles()) + tb::to_hex(s.out_data);
      if (s.out_data != expected.front()) {
        const long vec = received / p.nf(), nf = received % p.nf();
        return fmt("vector %ld, output word %ld (of %ld per vector): got ", vec, nf, p.nf()) + tb::to_hex(s.out_data) +
               ", expected " + tb::to_hex(expected.front());
      }
      expected.pop_front();
      ++received;
      last_out = b.cycles();
    }
    if (s.in_fire) {
      if (first_in < 0) first_in = b.cycles();
      in_presenting = false;
    }
    if (s.w_fire) w_presenting = false;
    if (drain > 0) --drain;
    if (drain < 0 && expected.empty()) drain = p.cycles_per_vector() + 2L * p.latency() + 10;
  }
  if (rewrite) {
    for (size_t i = 0; i < axil.bresps.size(); ++i)
      if (axil.bresps[i] != tb::kAxiOkay) return fmt("rewrite %ld answered bresp %ld", static_cast<long>(i), axil.bresps[i]);
    std::printf("%s: %ld weight words rewritten while streaming\n", label.c_str(), rewrites);
    if (rewrites < 2) return "weak stimulus: fewer than 2 words rewritten while streaming";
  }
  if (expect_cycles >= 0) {
    const long measured = last_out - first_in + 1;
    std::printf("cycles %s: %ld vectors, measured %ld, estimate %ld * %d * %d = %ld, + latency %d = %ld\n",
                label.c_str(), n_vectors, measured, n_vectors, p.sf(), p.nf(), n_vectors * p.cycles_per_vector(),
                p.latency(), expect_cycles);
    if (measured != expect_cycles)
      return fmt("%ld vectors took %ld cycles from first input to last output, expected %ld", n_vectors, measured,
                 expect_cycles);
  }
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  tb::Options opt(argc, argv);
  mvau::Params p;
  try {
    p = mvau::Params::from_options(opt);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 2;
  }
  const uint64_t seed = static_cast<uint64_t>(opt.require("seed"));
  const mvau::Layer layer = mvau::make_layer(p, seed);
  const long nv = p.NUM_VECTORS;
  const long vectors = opt.get("vectors", std::max(2 * nv, 24L));
  auto exact = [&](long n) { return n * p.cycles_per_vector() + p.latency(); };
  // Back-to-back frames: at least 3, and at least 16 output words, more than the output
  // buffer's credits, so a throughput loss from too few credits shows in the count.
  const long frames = std::max(3L, (16 + nv * p.nf() - 1) / (nv * p.nf()));
  const bool wr = opt.get("RUNTIME_WRITEABLE", 0) != 0;

  const tb::Traffic full_rate;
  std::vector<tb::Scenario> scenarios = {
      {"full_rate_frame", [&] { return run(layer, nv, full_rate, seed + 1, exact(nv), "one frame", wr); }},
      {"full_rate_frames", [&] { return run(layer, frames * nv, full_rate, seed + 2, exact(frames * nv),
                                             std::to_string(frames) + " frames", wr); }},
  };
  // Random traffic; p_side paces the external weight stream.
  const std::vector<tb::Traffic> random = {{"random_balanced", 0.5, 0.5, 0.5},
                                           {"random_slow_consumer", 0.9, 0.2, 0.9},
                                           {"random_slow_producer", 0.2, 0.9, 0.7},
                                           {"random_bursty", 0.95, 0.95, 0.9}};
  for (auto& s : tb::traffic_scenarios(random, [&](const tb::Traffic& t, int i) {
         return run(layer, vectors, t, seed + 3 + i, -1, "", wr);
       }))
    scenarios.push_back(s);
  if (wr) {
    // Long enough for a few dozen word rewrites (a word write takes about 5 cycles a chunk).
    const long chunks = (p.w_width() + 31) / 32;
    const long rw_vectors = std::max(vectors, (200 * chunks + p.cycles_per_vector() - 1) / p.cycles_per_vector());
    scenarios.push_back({"rewrite_while_streaming_full_rate", [&] {
                           return run(layer, rw_vectors, full_rate, seed + 7, -1, "full rate", true, true);
                         }});
    scenarios.push_back({"rewrite_while_streaming_random", [&] {
                           return run(layer, rw_vectors, tb::Traffic{"random", 0.6, 0.6, 1.0}, seed + 8, -1, "random",
                                      true, true);
                         }});
  }
  std::printf("mvau %s MW=%d MH=%d SIMD=%d PE=%d (SF=%d NF=%d) NUM_VECTORS=%d\n", p.MEM_MODE.c_str(), p.MW, p.MH,
              p.SIMD, p.PE, p.sf(), p.nf(), p.NUM_VECTORS);
  return tb::run_scenarios("mvau_tb", scenarios, opt.flag("expect_failure"));
}
