// Golden-vector testbench for any single-stream layer (ports clk, rst_n, s_axis_*,
// m_axis_*): streams the input words of a file into the DUT and checks every output
// word against the expected file, bit-exactly.
//
// Options: --meta=FILE  "key value" lines: in_width, out_width (bits), input, expected
//                       (hex word files, one word per line, paths relative to the
//                       working directory), cycles (estimated cycles for all input
//                       words at full rate), latency (allowed extra cycles: pipeline
//                       fill and drain)
//                       Optional: w_width and weights (words for a second input
//                       stream s_axis_w, e.g. external weights, offered with the same
//                       kind of random gaps as the input), axilite (file of "address
//                       data" hex pairs written through the s_axilite_* port after
//                       reset with random AW/W delays and bready, each answered OKAY,
//                       before any stream word). The DUT's
//                       ports decide which apply: the testbench is compiled against
//                       them (a listed file for a missing port is an error).
//          --seed=S     random seed for the stall patterns (default 1)
//          --expect_failure  mutation test: pass only if some scenario fails
//
// Scenarios: full_rate (no stalls; also checks the cycle count against the estimate:
// estimate <= measured <= estimate + latency), random_stalls (input gaps and output
// back-pressure), bursty. A run that stops producing output for far longer than the
// estimate is reported as a hang with the number of words seen, not a timeout.
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "Vdut.h"
#include "rtl/common/tb/axilite.hpp"
#include "rtl/common/tb/bits.hpp"
#include "rtl/common/tb/dut.hpp"
#include "rtl/common/tb/hex.hpp"
#include "rtl/common/tb/options.hpp"
#include "rtl/common/tb/rng.hpp"
#include "rtl/common/tb/scenarios.hpp"

namespace {

struct Meta {
  int in_width = 0, out_width = 0, w_width = 0;
  long cycles = 0, latency = 0;
  std::vector<tb::Bits> input, expected, weights;
  std::vector<std::pair<uint32_t, uint32_t>> axilite;
};

// Which optional interfaces the DUT has (detected from Verilator's port members).
using tb::HasAxiLite;

// Reads the meta file and the word files it names; throws on any problem.
Meta read_meta(const std::string& path) {
  std::ifstream f(path);
  if (!f) throw std::runtime_error("cannot read --meta=" + path);
  std::map<std::string, std::string> kv;
  std::string k, v;
  while (f >> k >> v) kv[k] = v;
  auto need = [&](const char* key) -> const std::string& {
    if (!kv.count(key)) throw std::runtime_error(path + " lacks " + key);
    return kv.at(key);
  };
  Meta m;
  m.in_width = std::stoi(need("in_width"));
  m.out_width = std::stoi(need("out_width"));
  m.cycles = std::stol(need("cycles"));
  m.latency = std::stol(need("latency"));
  m.input = tb::read_hex_words(need("input"), m.in_width);
  m.expected = tb::read_hex_words(need("expected"), m.out_width);
  if (kv.count("weights")) {
    m.w_width = std::stoi(need("w_width"));
    m.weights = tb::read_hex_words(kv.at("weights"), m.w_width);
  }
  if (kv.count("axilite") && !tb::read_axilite_writes(kv.at("axilite"), &m.axilite))
    throw std::runtime_error("cannot read " + kv.at("axilite"));
  if (!m.weights.empty() && !tb::HasWeightStream<Vdut>::value)
    throw std::runtime_error("meta lists weights, but the DUT has no s_axis_w port");
  if (!m.axilite.empty() && !HasAxiLite<Vdut>::value)
    throw std::runtime_error("meta lists AXI-lite writes, but the DUT has no s_axilite port");
  return m;
}

// Writes every (address, data) pair through the AXI-lite port (tb::AxiLiteMaster: AW and
// W after random delays, random bready, protocol checked). Returns "" or the first problem.
template <typename D>
std::string axilite_writes(D& dut, const Meta& m, uint64_t seed) {
  if constexpr (HasAxiLite<D>::value) {
    tb::AxiLiteMaster<D> master(seed, tb::AxiLiteTiming{3, 0.7, 1.0});
    for (const auto& [addr, data] : m.axilite) master.write(addr, data);
    return tb::axilite_run(dut, master, 100 + 20 * static_cast<long>(m.axilite.size()));
  } else {
    (void)dut, (void)m, (void)seed;
    return "";
  }
}

// Runs all input words through a fresh DUT; in_p / out_p: probability per cycle that the
// input is offered / the output is accepted. Returns "" or the first problem.
template <typename D>
std::string run(const Meta& m, double in_p, double out_p, bool bursty, uint64_t seed, long* cycles_out) {
  auto ctx = std::make_unique<VerilatedContext>();
  auto dut = std::make_unique<D>(ctx.get());
  tb::Rng rng(seed);
  dut->s_axis_tvalid = 0;
  dut->m_axis_tready = 0;
  if constexpr (tb::HasWeightStream<D>::value) dut->s_axis_w_tvalid = 0;
  if constexpr (HasAxiLite<D>::value) tb::axilite_idle(*dut);
  tb::reset(*dut);
  if (std::string err = axilite_writes(*dut, m, seed); !err.empty()) return err;
  std::size_t w_sent = 0;
  bool w_offering = false;

  std::size_t sent = 0, got = 0;
  long cycle = 0, first_in = -1, last_out = -1, idle = 0;
  const long hang_limit = 1000 + 20 * (m.cycles + m.latency);
  bool burst_on = true;
  bool offering = false;
  while (got < m.expected.size()) {
    if (bursty && rng.chance(0.05)) burst_on = !burst_on;
    // AXI: once offered, a word stays valid until accepted.
    if (!offering) offering = sent < m.input.size() && (bursty ? burst_on : rng.chance(in_p));
    bool ready = bursty ? (burst_on || rng.chance(0.3)) : rng.chance(out_p);
    dut->s_axis_tvalid = offering;
    if (sent < m.input.size()) tb::set_port(dut->s_axis_tdata, m.input[sent]);
    if constexpr (tb::HasWeightStream<D>::value) {
      if (!w_offering) w_offering = w_sent < m.weights.size() && (bursty ? burst_on : rng.chance(in_p));
      dut->s_axis_w_tvalid = w_offering;
      if (w_sent < m.weights.size()) tb::set_port(dut->s_axis_w_tdata, m.weights[w_sent]);
    }
    dut->m_axis_tready = ready;
    dut->clk = 0;
    dut->eval();
    bool in_fire = offering && dut->s_axis_tready;
    if constexpr (tb::HasWeightStream<D>::value) {
      if (w_offering && dut->s_axis_w_tready) {
        ++w_sent;
        w_offering = false;
      }
    }
    bool out_fire = ready && dut->m_axis_tvalid;
    if (out_fire) {
      tb::Bits w = tb::get_port(dut->m_axis_tdata, m.out_width);
      if (w != m.expected[got])
        return "output word " + std::to_string(got) + ": got " + tb::to_hex(w) + ", expected " +
               tb::to_hex(m.expected[got]);
      ++got;
      last_out = cycle;
      idle = 0;
    } else if (++idle > hang_limit) {
      return "hang: " + std::to_string(got) + " of " + std::to_string(m.expected.size()) +
             " output words, " + std::to_string(sent) + " of " + std::to_string(m.input.size()) +
             " input words and " + std::to_string(w_sent) + " of " + std::to_string(m.weights.size()) +
             " weight words after " + std::to_string(cycle) + " cycles";
    }
    if (in_fire) {
      if (first_in < 0) first_in = cycle;
      ++sent;
      offering = false;
    }
    dut->clk = 1;
    dut->eval();
    ++cycle;
  }
  // Nothing more may come out.
  dut->s_axis_tvalid = 0;
  dut->m_axis_tready = 1;
  if constexpr (tb::HasWeightStream<D>::value) dut->s_axis_w_tvalid = 0;
  if (w_sent != m.weights.size())
    return "only " + std::to_string(w_sent) + " of " + std::to_string(m.weights.size()) +
           " weight words taken for the whole output";
  for (int i = 0; i < 64; ++i) {
    dut->clk = 0;
    dut->eval();
    if (dut->m_axis_tvalid) return "extra output word after the last expected one";
    dut->clk = 1;
    dut->eval();
  }
  if (cycles_out) *cycles_out = last_out - first_in + 1;
  dut->final();
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  tb::Options opt(argc, argv);
  Meta m;
  try {
    m = read_meta(opt.require_text("meta"));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "testbench: %s\n", e.what());
    return 2;
  }
  const uint64_t seed = static_cast<uint64_t>(opt.get("seed", 1));
  std::vector<tb::Scenario> scenarios = {
      {"full_rate",
       [&] {
         long cycles = 0;
         std::string err = run<Vdut>(m, 1.0, 1.0, false, seed, &cycles);
         if (!err.empty()) return err;
         if (cycles < m.cycles || cycles > m.cycles + m.latency)
           return "cycles " + std::to_string(cycles) + " outside [estimate " + std::to_string(m.cycles) +
                  ", estimate + latency " + std::to_string(m.cycles + m.latency) + "]";
         std::printf("full_rate: %ld cycles (estimate %ld, latency allowance %ld)\n", cycles, m.cycles,
                     m.latency);
         return std::string();
       }},
      {"random_stalls", [&] { return run<Vdut>(m, 0.7, 0.6, false, seed + 1, nullptr); }},
      {"slow_consumer", [&] { return run<Vdut>(m, 1.0, 0.2, false, seed + 2, nullptr); }},
      {"bursty", [&] { return run<Vdut>(m, 0, 0, true, seed + 3, nullptr); }},
  };
  return tb::run_scenarios("stream_tb", scenarios, opt.flag("expect_failure"));
}
