// Self-checking testbench for any AXI-stream buffer with ports clk, rst_n,
// s_axis_{tdata,tvalid,tready}, m_axis_{tdata,tvalid,tready} and optionally count
// (axis_fifo_srl, axis_fifo_ram, axis_fifo, axis_skid_buffer).
//
// Options: --width=W        data width of the DUT
//          --capacity=N     words it must accept with the output blocked (exactly)
//          --latency=L      cycles from a word's input handshake to its output handshake
//                           when the FIFO is empty and the output ready (exactly)
//          --items=N        words per random-traffic scenario (default 2000)
//          --seed=S         random seed (default 1)
//          --expect_failure mutation test: pass only if some scenario fails
#include <cstdio>
#include <deque>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "Vdut.h"
#include "rtl/common/tb/bits.hpp"
#include "rtl/common/tb/dut.hpp"
#include "rtl/common/tb/hex.hpp"
#include "rtl/common/tb/options.hpp"
#include "rtl/common/tb/rng.hpp"
#include "rtl/common/tb/scenarios.hpp"
#include "rtl/common/tb/stream.hpp"
#include "rtl/common/tb/traffic.hpp"

namespace {

template <typename T, typename = void>
struct HasCount : std::false_type {};
template <typename T>
struct HasCount<T, std::void_t<decltype(std::declval<T&>().count)>> : std::true_type {};

struct Config {
  int width;
  long capacity;
  long latency;
  long items;
  uint64_t seed;
};

// One DUT instance with cycle-level drive and sampling.
class Bench {
 public:
  explicit Bench(const Config& cfg) : cfg_(cfg), ctx_(new VerilatedContext), dut_(new Vdut(ctx_.get())) {
    dut_->clk = 0;
    dut_->s_axis_tvalid = 0;
    dut_->m_axis_tready = 0;
    tb::reset(*dut_);
    dut_->eval();
  }
  ~Bench() { dut_->final(); }

  // Drive inputs for this cycle, settle combinational outputs, return handshakes, clock.
  struct Sample {
    bool in_fire, out_fire, s_ready, m_valid;
    tb::Bits out_data;
    long count;
  };
  Sample cycle(bool s_valid, const tb::Bits& s_data, bool m_ready) {
    dut_->s_axis_tvalid = s_valid;
    tb::set_port(dut_->s_axis_tdata, s_data);
    dut_->m_axis_tready = m_ready;
    dut_->clk = 0;
    dut_->eval();
    Sample s;
    s.s_ready = dut_->s_axis_tready;
    s.m_valid = dut_->m_axis_tvalid;
    s.in_fire = s_valid && s.s_ready;
    s.out_fire = s.m_valid && m_ready;
    s.out_data = tb::get_port(dut_->m_axis_tdata, cfg_.width);
    s.count = read_count();
    dut_->clk = 1;
    dut_->eval();
    ++cycles_;
    return s;
  }
  long cycles() const { return cycles_; }

 private:
  long read_count() { return count_of(*dut_); }
  template <typename D>
  static long count_of(D& d) {
    if constexpr (HasCount<D>::value) return static_cast<long>(d.count);
    return -1;  // the DUT has no count port
  }
  Config cfg_;
  std::unique_ptr<VerilatedContext> ctx_;
  std::unique_ptr<Vdut> dut_;
  long cycles_ = 0;
};

std::string fmt(const char* f, long a, long b = 0, long c = 0) {
  char buf[256];
  std::snprintf(buf, sizeof buf, f, a, b, c);
  return buf;
}

// Random traffic with input gaps and output back-pressure; checks order, data, the
// AXI rule that a presented output word stays put until taken, ready vs occupancy,
// and the count port.
std::string random_traffic(const Config& cfg, const tb::Traffic& t, uint64_t seed) {
  Bench b(cfg);
  tb::Rng rng(seed);
  std::deque<tb::Bits> expected;
  long sent = 0, received = 0;
  bool presenting = false;
  tb::Bits cur;
  tb::OutputHold hold;
  const long limit = cfg.items * 50 + 1000;
  while (received < cfg.items) {
    if (b.cycles() > limit) return fmt("timeout: %ld of %ld words after %ld cycles", received, cfg.items, b.cycles());
    if (!presenting && sent < cfg.items && rng.chance(t.p_valid)) {
      cur = rng.bits(cfg.width);
      presenting = true;
    }
    bool ready = rng.chance(t.p_ready);
    long occupancy = static_cast<long>(expected.size());
    auto s = b.cycle(presenting, cur, ready);
    if (s.s_ready != (occupancy < cfg.capacity))
      return fmt("cycle %ld: s_axis_tready=%ld with %ld words inside", b.cycles(), s.s_ready, occupancy);
    if (s.count >= 0 && s.count != occupancy)
      return fmt("cycle %ld: count=%ld, expected %ld", b.cycles(), s.count, occupancy);
    if (!hold.ok(s.m_valid, ready, s.out_data))
      return fmt("cycle %ld: output word changed or withdrawn before it was taken", b.cycles());
    if (s.out_fire) {
      if (expected.empty()) return fmt("cycle %ld: output word with nothing inside", b.cycles());
      if (s.out_data != expected.front())
        return "word " + std::to_string(received) + ": got " + tb::to_hex(s.out_data) + ", expected " +
               tb::to_hex(expected.front());
      expected.pop_front();
      ++received;
    }
    if (s.in_fire) {
      expected.push_back(cur);
      presenting = false;
      ++sent;
    }
  }
  return "";
}

// Output blocked: exactly `capacity` words go in, none more; then all come out in order.
std::string fill_and_drain(const Config& cfg) {
  Bench b(cfg);
  tb::Rng rng(cfg.seed + 17);
  std::deque<tb::Bits> in;
  tb::Bits cur = rng.bits(cfg.width);
  const long tries = 2 * cfg.capacity + 20;
  for (long i = 0; i < tries; ++i) {
    auto s = b.cycle(true, cur, false);
    if (s.in_fire) {
      in.push_back(cur);
      cur = rng.bits(cfg.width);
    }
  }
  if (static_cast<long>(in.size()) != cfg.capacity)
    return fmt("accepted %ld words with the output blocked, capacity is %ld", static_cast<long>(in.size()),
               cfg.capacity);
  auto full = b.cycle(false, cur, false);
  if (full.s_ready) return "s_axis_tready high while full";
  if (full.count >= 0 && full.count != cfg.capacity) return fmt("count=%ld when full, expected %ld", full.count, cfg.capacity);
  long out = 0;
  for (long i = 0; i < cfg.capacity + cfg.latency + 20; ++i) {
    auto s = b.cycle(false, cur, true);
    if (s.out_fire) {
      if (in.empty()) return "extra output word after draining";
      if (s.out_data != in.front()) return fmt("drain: word %ld differs", out);
      in.pop_front();
      ++out;
    }
  }
  if (!in.empty()) return fmt("drained %ld of %ld words", out, cfg.capacity);
  auto empty = b.cycle(false, cur, true);
  if (empty.m_valid) return "m_axis_tvalid high while empty";
  if (!empty.s_ready) return "s_axis_tready low while empty";
  if (empty.count > 0) return fmt("count=%ld when empty", empty.count);
  return "";
}

// One word into an empty FIFO appears after exactly `latency` cycles.
std::string latency_empty(const Config& cfg) {
  Bench b(cfg);
  tb::Rng rng(cfg.seed + 5);
  for (int i = 0; i < 3; ++i) {
    auto idle = b.cycle(false, tb::Bits(), true);
    if (idle.m_valid) return "m_axis_tvalid high after reset";
  }
  tb::Bits w = rng.bits(cfg.width);
  auto s = b.cycle(true, w, true);
  if (!s.in_fire) return "empty FIFO refused a word";
  for (long l = 1; l <= cfg.latency + 10; ++l) {
    auto o = b.cycle(false, w, true);
    if (o.out_fire) {
      if (o.out_data != w) return "wrong word";
      if (l != cfg.latency) return fmt("latency %ld cycles, expected %ld", l, cfg.latency);
      return "";
    }
  }
  return fmt("word did not come out within %ld cycles", cfg.latency + 10);
}

// Both sides always ready: one word per cycle once the pipeline is full (when the
// FIFO holds more words than its latency; otherwise the round trip limits the rate).
std::string full_rate(const Config& cfg) {
  Bench b(cfg);
  tb::Rng rng(cfg.seed + 9);
  const long n = 4 * cfg.capacity + 64;
  long sent = 0, received = 0, first = -1, last = -1;
  std::deque<tb::Bits> expected;
  tb::Bits cur = rng.bits(cfg.width);
  while (received < n && b.cycles() < 10 * n + 100) {
    auto s = b.cycle(sent < n, cur, true);
    if (s.out_fire) {
      if (expected.empty() || s.out_data != expected.front()) return "wrong word";
      expected.pop_front();
      ++received;
      last = b.cycles();
    }
    if (s.in_fire) {
      if (first < 0) first = b.cycles();
      expected.push_back(cur);
      cur = rng.bits(cfg.width);
      ++sent;
    }
  }
  if (received < n) return "stalled";
  if (cfg.capacity > cfg.latency && last - first != n - 1 + cfg.latency)
    return fmt("%ld words took %ld cycles, expected %ld", n, last - first + 1, n + cfg.latency);
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  tb::Options opt(argc, argv);
  Config cfg{static_cast<int>(opt.require("width")), opt.require("capacity"), opt.require("latency"),
             opt.get("items", 2000), static_cast<uint64_t>(opt.get("seed", 1))};
  std::vector<tb::Scenario> scenarios = {
      {"fill_and_drain", [&] { return fill_and_drain(cfg); }},
      {"latency_empty", [&] { return latency_empty(cfg); }},
      {"full_rate", [&] { return full_rate(cfg); }},
  };
  const std::vector<tb::Traffic> random = {{"random_balanced", 0.5, 0.5},
                                           {"random_slow_consumer", 0.9, 0.2},
                                           {"random_slow_producer", 0.2, 0.9},
                                           {"random_bursty", 0.95, 0.95}};
  for (auto& s : tb::traffic_scenarios(random, [&cfg](const tb::Traffic& t, int i) {
         return random_traffic(cfg, t, cfg.seed + i);
       }))
    scenarios.push_back(s);
  return tb::run_scenarios("fifo_tb", scenarios, opt.flag("expect_failure"));
}
