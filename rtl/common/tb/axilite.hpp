// A cycle-level AXI4-lite master for Verilated DUTs with s_axilite_* ports (the
// runtime-writable memories: rtl/common/axil_mem_write.sv and the layers that embed it).
//
// Writes and reads are queued, then the testbench calls drive() before it evaluates the
// DUT with the clock low and sample() after that evaluation, before the rising edge
// (axilite_cycle() does the whole cycle for benches with nothing else to drive). AW and
// W of each write are offered independently after random delays, so they arrive in
// either order or together, and the next write's AW and W may go out before the previous
// response; bready and rready are random. The slave's side of the protocol is checked on
// the way: responses only for writes whose AW and W were both taken, in order, and a
// response stays valid and unchanged until it is taken. error() names the first
// violation.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "rtl/common/tb/bits.hpp"
#include "rtl/common/tb/rng.hpp"

namespace tb {

// Whether a Verilated DUT has the s_axilite_* port (detected from its port members).
template <typename D, typename = void>
struct HasAxiLite : std::false_type {};
template <typename D>
struct HasAxiLite<D, std::void_t<decltype(std::declval<D&>().s_axilite_awvalid)>> : std::true_type {};

// Reads "address data" hex pairs, one per line (packing.axilite_writes); false if the
// file cannot be read or holds anything else.
inline bool read_axilite_writes(const std::string& path, std::vector<std::pair<uint32_t, uint32_t>>* out) {
  FILE* f = std::fopen(path.c_str(), "r");
  if (!f) return false;
  unsigned long a = 0, d = 0;
  int got = 0;
  while ((got = std::fscanf(f, "%lx %lx", &a, &d)) == 2)
    out->emplace_back(static_cast<uint32_t>(a), static_cast<uint32_t>(d));
  std::fclose(f);
  return got == EOF;
}

// The address map of rtl/common/axil_mem_write.sv for a memory of `width`-bit words.
struct AxiLiteMap {
  int width = 32, depth = 1;
  int chunks() const { return (width + 31) / 32; }
  int stride() const {
    int s = 1;
    while (s < chunks()) s *= 2;
    return s;
  }
  int addr_bits() const {
    long bytes = static_cast<long>(depth) * stride() * 4;
    int b = 0;
    while ((1L << b) < bytes) ++b;
    return b;
  }
  uint32_t address(long word, int chunk) const { return static_cast<uint32_t>((word * stride() + chunk) * 4); }
  // The writes that store `w` (`width` bits) as word `i`: chunks low to high.
  std::vector<std::pair<uint32_t, uint32_t>> word_writes(long i, const Bits& w) const {
    std::vector<std::pair<uint32_t, uint32_t>> out;
    for (int j = 0; j < chunks(); ++j) out.emplace_back(address(i, j), j < static_cast<int>(w.size()) ? w[j] : 0u);
    return out;
  }
};

struct AxiLiteTiming {
  int max_delay = 3;       // AW and W each wait 0 .. max_delay cycles before being offered
  double p_bready = 1.0;   // chance per cycle that bready is high
  double p_rready = 1.0;   // same for rready
};

constexpr int kAxiOkay = 0;
constexpr int kAxiSlvErr = 2;

template <typename Dut>
class AxiLiteMaster {
 public:
  AxiLiteMaster(uint64_t seed, const AxiLiteTiming& t) : rng_(seed), t_(t) {
    aw_wait_ = delay();
    w_wait_ = delay();
    ar_wait_ = delay();
  }

  void write(uint32_t addr, uint32_t data) { writes_.push_back({addr, data}); }
  void read(uint32_t addr) { reads_.push_back(addr); }

  // Before the clock-low evaluation: this cycle's valid, payload and ready signals.
  void drive(Dut& d) {
    if (!aw_valid_ && aw_next_ < writes_.size() && !wait(aw_wait_)) aw_valid_ = true;
    if (!w_valid_ && w_next_ < writes_.size() && !wait(w_wait_)) w_valid_ = true;
    if (!ar_valid_ && ar_next_ < reads_.size() && !wait(ar_wait_)) ar_valid_ = true;
    d.s_axilite_awvalid = aw_valid_;
    d.s_axilite_awaddr = aw_valid_ ? writes_[aw_next_].addr : 0;
    d.s_axilite_wvalid = w_valid_;
    d.s_axilite_wdata = w_valid_ ? writes_[w_next_].data : 0;
    d.s_axilite_wstrb = 0xf;
    d.s_axilite_arvalid = ar_valid_;
    d.s_axilite_araddr = ar_valid_ ? reads_[ar_next_] : 0;
    bready_ = rng_.chance(t_.p_bready);
    rready_ = rng_.chance(t_.p_rready);
    d.s_axilite_bready = bready_;
    d.s_axilite_rready = rready_;
  }

  // After the clock-low evaluation, before the rising edge: handshakes and checks.
  void sample(const Dut& d) {
    ++cycle_;
    const bool bvalid = d.s_axilite_bvalid, rvalid = d.s_axilite_rvalid;
    const int bresp = d.s_axilite_bresp, rresp = d.s_axilite_rresp;
    const uint32_t rdata = d.s_axilite_rdata;
    if (b_held_ && (!bvalid || bresp != b_prev_)) fail("bvalid/bresp changed before bready");
    if (r_held_ && (!rvalid || rresp != r_prev_ || rdata != rdata_prev_)) fail("rvalid/rresp/rdata changed before rready");
    if (bvalid && bready_) {
      // AW and W of this write must both have been taken in earlier cycles.
      if (bresps.size() >= std::min(aw_next_, w_next_)) fail("write response before its AW and W were taken");
      bresps.push_back(bresp);
    }
    if (rvalid && rready_) {
      if (rresps.size() >= ar_next_) fail("read response without a read address");
      rresps.push_back({rresp, rdata});
    }
    b_held_ = bvalid && !bready_;
    b_prev_ = bresp;
    r_held_ = rvalid && !rready_;
    r_prev_ = rresp;
    rdata_prev_ = rdata;
    if (aw_valid_ && d.s_axilite_awready) {
      ++aw_next_;
      aw_valid_ = false;
      aw_wait_ = delay();
    }
    if (w_valid_ && d.s_axilite_wready) {
      ++w_next_;
      w_valid_ = false;
      w_wait_ = delay();
    }
    if (ar_valid_ && d.s_axilite_arready) {
      ++ar_next_;
      ar_valid_ = false;
      ar_wait_ = delay();
    }
  }

  // Every queued write and read has its response.
  bool idle() const { return bresps.size() == writes_.size() && rresps.size() == reads_.size(); }
  const std::string& error() const { return error_; }
  size_t writes_queued() const { return writes_.size(); }

  std::vector<int> bresps;                          // write responses, in order
  std::vector<std::pair<int, uint32_t>> rresps;     // read (rresp, rdata), in order

 private:
  struct Write {
    uint32_t addr, data;
  };
  int delay() { return t_.max_delay > 0 ? static_cast<int>(rng_.bits(32)[0] % (t_.max_delay + 1)) : 0; }
  // Counts a waiting cycle down; false once the wait is over.
  static bool wait(int& n) {
    if (n == 0) return false;
    --n;
    return true;
  }
  void fail(const char* what) {
    if (!error_.empty()) return;
    char buf[160];
    std::snprintf(buf, sizeof buf, "AXI-lite cycle %ld: %s", cycle_, what);
    error_ = buf;
  }

  Rng rng_;
  AxiLiteTiming t_;
  std::vector<Write> writes_;
  std::vector<uint32_t> reads_;
  size_t aw_next_ = 0, w_next_ = 0, ar_next_ = 0;
  bool aw_valid_ = false, w_valid_ = false, ar_valid_ = false, bready_ = false, rready_ = false;
  int aw_wait_ = 0, w_wait_ = 0, ar_wait_ = 0;
  bool b_held_ = false, r_held_ = false;
  int b_prev_ = 0, r_prev_ = 0;
  uint32_t rdata_prev_ = 0;
  long cycle_ = 0;
  std::string error_;
};

// The master's inputs of the port idle (no request, no response taken), e.g. during reset.
template <typename Dut>
void axilite_idle(Dut& d) {
  d.s_axilite_awvalid = 0;
  d.s_axilite_wvalid = 0;
  d.s_axilite_arvalid = 0;
  d.s_axilite_bready = 0;
  d.s_axilite_rready = 0;
}

// One clock cycle driving only the AXI-lite port (the DUT's other inputs keep their values).
template <typename Dut>
void axilite_cycle(Dut& d, AxiLiteMaster<Dut>& m) {
  m.drive(d);
  d.clk = 0;
  d.eval();
  m.sample(d);
  d.clk = 1;
  d.eval();
}

// Runs the queued transfers to completion (at most max_cycles cycles); "" or the error.
// Every write must be answered OKAY.
template <typename Dut>
std::string axilite_run(Dut& d, AxiLiteMaster<Dut>& m, long max_cycles) {
  for (long c = 0; !m.idle(); ++c) {
    if (c > max_cycles) return "AXI-lite: transfers did not complete within " + std::to_string(max_cycles) + " cycles";
    axilite_cycle(d, m);
    if (!m.error().empty()) return m.error();
  }
  for (size_t i = 0; i < m.bresps.size(); ++i)
    if (m.bresps[i] != kAxiOkay)
      return "AXI-lite: write " + std::to_string(i) + " answered bresp " + std::to_string(m.bresps[i]);
  return "";
}

}  // namespace tb
