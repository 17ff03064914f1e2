// Self-checking testbench of rtl/common/axil_mem_write.sv: words of random data written
// through AXI-lite (rtl/common/tb/axilite.hpp: AW and W in random order and with random
// delays, random bready), and a memory rebuilt from the wr_en / wr_addr / wr_data pulses
// that must equal the contents the writer intended, word for word, with no write to any
// other word. Every response is checked against the address map (OKAY, or SLVERR for the
// holes of the map, which must write nothing and stage nothing), and reads must be
// answered SLVERR with rdata 0.
//
// Options: --width=W --depth=D   the module parameters
//          --seed=S              random seed (default 1)
//          --expect_failure      mutation test: pass only if some scenario fails
#include <cstdio>
#include <map>
#include <memory>
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

namespace {

struct Config {
  int width, depth;
  uint64_t seed;
  tb::AxiLiteMap map() const { return {width, depth}; }
};

using Master = tb::AxiLiteMaster<Vdut>;

// One write on the bus, with the response the address map calls for.
struct Op {
  uint32_t addr, data;
  int resp;
};

class Bench {
 public:
  explicit Bench(const Config& c) : c_(c), ctx_(new VerilatedContext), dut_(new Vdut(ctx_.get())) {
    tb::axilite_idle(*dut_);
    tb::reset(*dut_);
  }
  ~Bench() { dut_->final(); }

  void cycle(Master& m) {
    m.drive(*dut_);
    dut_->clk = 0;
    dut_->eval();
    m.sample(*dut_);
    if (dut_->wr_en) commits.emplace_back(static_cast<long>(dut_->wr_addr), tb::get_port(dut_->wr_data, c_.width));
    dut_->clk = 1;
    dut_->eval();
  }

  std::vector<std::pair<long, tb::Bits>> commits;  // every wr_en pulse: (address, data)

 private:
  Config c_;
  std::unique_ptr<VerilatedContext> ctx_;
  std::unique_ptr<Vdut> dut_;
};

std::string hexaddr(uint32_t a) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%x", a);
  return buf;
}

// A word write with random data in the byte-offset bits [1:0] now and then (ignored).
void add_word(const Config& c, tb::Rng& rng, long i, std::vector<Op>& ops, std::map<long, tb::Bits>& intended,
              const std::vector<uint32_t>& holes, double p_hole) {
  tb::Bits w = rng.bits(c.width);
  for (auto [a, d] : c.map().word_writes(i, w)) {
    // A refused write between the chunks of a word must not disturb the staged ones.
    if (!holes.empty() && rng.chance(p_hole)) {
      ops.push_back({holes[rng.bits(32)[0] % holes.size()], rng.bits(32)[0], tb::kAxiSlvErr});
    }
    if (rng.chance(0.2)) a |= rng.bits(2)[0];
    ops.push_back({a, d, tb::kAxiOkay});
  }
  intended[i] = w;
}

// Byte addresses (4-aligned) inside the address port's range that the map leaves unused.
std::vector<uint32_t> holes(const Config& c) {
  std::vector<uint32_t> out;
  const auto m = c.map();
  for (uint32_t a = 0; a < (uint32_t{1} << m.addr_bits()); a += 4) {
    const uint32_t word = a / 4 / m.stride(), chunk = a / 4 % m.stride();
    if (word >= static_cast<uint32_t>(c.depth) || chunk >= static_cast<uint32_t>(m.chunks())) out.push_back(a);
  }
  return out;
}

// Runs `ops` (and `reads` read requests) and checks responses, commits and contents.
std::string run(const Config& c, const std::vector<Op>& ops, const std::map<long, tb::Bits>& intended, int reads,
                const tb::AxiLiteTiming& t, uint64_t seed) {
  Bench b(c);
  Master m(seed, t);
  tb::Rng rng(seed + 99);
  for (const auto& op : ops) m.write(op.addr, op.data);
  for (int i = 0; i < reads; ++i) m.read(rng.bits(c.map().addr_bits())[0]);
  const long limit = 30 * static_cast<long>(ops.size() + reads) + 200;
  long cyc = 0;
  for (; !m.idle(); ++cyc) {
    if (cyc > limit)
      return "hang: " + std::to_string(m.bresps.size()) + " of " + std::to_string(ops.size()) + " writes and " +
             std::to_string(m.rresps.size()) + " of " + std::to_string(reads) + " reads answered";
    b.cycle(m);
    if (!m.error().empty()) return m.error();
  }
  for (int i = 0; i < 8; ++i) b.cycle(m);  // a late or extra wr_en would show here
  if (!m.error().empty()) return m.error();

  for (size_t i = 0; i < ops.size(); ++i)
    if (m.bresps[i] != ops[i].resp)
      return "write " + std::to_string(i) + " to " + hexaddr(ops[i].addr) + ": bresp " + std::to_string(m.bresps[i]) +
             ", expected " + std::to_string(ops[i].resp);
  for (size_t i = 0; i < m.rresps.size(); ++i)
    if (m.rresps[i].first != tb::kAxiSlvErr || m.rresps[i].second != 0)
      return "read " + std::to_string(i) + ": rresp " + std::to_string(m.rresps[i].first) + ", rdata " +
             hexaddr(m.rresps[i].second) + ", expected SLVERR and 0";

  // The memory as the write port built it.
  std::map<long, tb::Bits> mem;
  for (const auto& [a, d] : b.commits) {
    if (a < 0 || a >= c.depth) return "wr_en with wr_addr " + std::to_string(a) + " beyond the depth";
    mem[a] = d;
  }
  for (const auto& [i, w] : intended) {
    auto it = mem.find(i);
    if (it == mem.end()) return "word " + std::to_string(i) + " was never written";
    if (it->second != w) return "word " + std::to_string(i) + ": " + tb::to_hex(it->second) + ", expected " + tb::to_hex(w);
  }
  for (const auto& [a, d] : mem)
    if (!intended.count(a)) return "word " + std::to_string(a) + " written, but no write was meant for it";
  long words = 0;
  for (const auto& op : ops)
    if (op.resp == tb::kAxiOkay && (op.addr >> 2) % c.map().stride() == static_cast<uint32_t>(c.map().chunks() - 1)) ++words;
  if (static_cast<long>(b.commits.size()) != words)
    return std::to_string(b.commits.size()) + " wr_en pulses for " + std::to_string(words) + " word writes";
  return "";
}

// Every word once, in address order.
std::string fill(const Config& c, const tb::AxiLiteTiming& t, uint64_t seed) {
  tb::Rng rng(seed);
  std::vector<Op> ops;
  std::map<long, tb::Bits> intended;
  for (long i = 0; i < c.depth; ++i) add_word(c, rng, i, ops, intended, {}, 0.0);
  return run(c, ops, intended, 0, t, seed);
}

// Random words, overwritten repeatedly; with holes, refused writes in between, some of
// them between the chunks of a word; with reads, read requests interleaved.
std::string random_words(const Config& c, const tb::AxiLiteTiming& t, uint64_t seed, double p_hole, int reads) {
  tb::Rng rng(seed);
  std::vector<Op> ops;
  std::map<long, tb::Bits> intended;
  const auto h = p_hole > 0 ? holes(c) : std::vector<uint32_t>();
  const long n = 3L * c.depth + 6;
  for (long k = 0; k < n; ++k) add_word(c, rng, static_cast<long>(rng.bits(32)[0] % c.depth), ops, intended, h, p_hole);
  return run(c, ops, intended, reads, t, seed);
}

}  // namespace

int main(int argc, char** argv) {
  tb::Options opt(argc, argv);
  Config c{static_cast<int>(opt.require("width")), static_cast<int>(opt.require("depth")),
           static_cast<uint64_t>(opt.get("seed", 1))};
  const tb::AxiLiteTiming slow{6, 0.2, 0.2}, mixed{3, 0.5, 0.5}, fast{0, 1.0, 1.0};
  std::printf("axil_mem_write WIDTH=%d DEPTH=%d: %d chunks, stride %d, %d address bits, %zu holes\n", c.width,
              c.depth, c.map().chunks(), c.map().stride(), c.map().addr_bits(), holes(c).size());
  std::vector<tb::Scenario> scenarios = {
      {"fill_mixed", [&] { return fill(c, mixed, c.seed); }},
      {"fill_fast", [&] { return fill(c, fast, c.seed + 1); }},
      {"random_fast", [&] { return random_words(c, fast, c.seed + 2, 0.0, 0); }},
      {"random_slow", [&] { return random_words(c, slow, c.seed + 3, 0.0, 0); }},
      {"refused_writes", [&] { return random_words(c, mixed, c.seed + 4, 0.3, 0); }},
      {"refused_writes_fast", [&] { return random_words(c, fast, c.seed + 5, 0.3, 0); }},
      {"reads_refused", [&] { return random_words(c, mixed, c.seed + 6, 0.1, 2 * c.depth + 8); }},
  };
  return tb::run_scenarios("axil_mem_write_tb", scenarios, opt.flag("expect_failure"));
}
