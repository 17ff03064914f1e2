// Drives a one-input, one-output AXI-stream DUT (ports clk, rst_n, s_axis_{tdata,tvalid,
// tready}, m_axis_{tdata,tvalid,tready}) through a word sequence with random input gaps
// and output back-pressure, and checks the AXI rules on the way: a presented output word
// stays valid and unchanged until it is taken, and no word appears beyond the expected
// count. The layer testbenches (thresholding, label_select, stream_dwc) compute the
// expected words with their own reference model and compare.
//
// Shared by rtl/thresholding, rtl/label_select and rtl/dwc; it belongs in rtl/common/tb
// next to harness.hpp and lives here until that folder takes it.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "rtl/common/tb/harness.hpp"

namespace tb {

// --- elements packed into words: element i at bits [i*bits +: bits] ------------------------
inline void put_field(Bits& w, int lsb, int bits, uint64_t v) {
  for (int b = 0; b < bits; ++b) {
    int pos = lsb + b;
    uint32_t mask = 1u << (pos % 32);
    if ((v >> b) & 1u) w[pos / 32] |= mask;
    else w[pos / 32] &= ~mask;
  }
}
inline uint64_t get_field(const Bits& w, int lsb, int bits) {
  uint64_t v = 0;
  for (int b = 0; b < bits; ++b) {
    int pos = lsb + b;
    if ((w[pos / 32] >> (pos % 32)) & 1u) v |= uint64_t{1} << b;
  }
  return v;
}
// Two's complement code of v in `bits` bits, and back.
inline uint64_t to_code(int64_t v, int bits) {
  return static_cast<uint64_t>(v) & (bits >= 64 ? ~uint64_t{0} : (uint64_t{1} << bits) - 1);
}
inline int64_t from_code(uint64_t c, int bits, bool is_signed) {
  if (is_signed && bits < 64 && ((c >> (bits - 1)) & 1u)) return static_cast<int64_t>(c) - (int64_t{1} << bits);
  return static_cast<int64_t>(c);
}
inline Bits pack(const std::vector<int64_t>& elems, int bits) {
  Bits w((elems.size() * bits + 31) / 32, 0);
  for (std::size_t i = 0; i < elems.size(); ++i) put_field(w, static_cast<int>(i) * bits, bits, to_code(elems[i], bits));
  return w;
}
// Hex digits of a word, most significant first, no prefix ($readmemh format).
inline std::string hex_digits(const Bits& w, int width) {
  std::string s;
  for (int d = (width + 3) / 4 - 1; d >= 0; --d) s += "0123456789abcdef"[get_field(w, 4 * d, std::min(4, width - 4 * d))];
  return s;
}

// --- the stream run ---------------------------------------------------------------------------
struct Traffic {
  const char* name;
  double p_valid;  // chance per cycle that the producer offers its next word
  double p_ready;  // chance per cycle that the consumer is ready
};

// The usual mix: full rate (the one where cycle counts are checked), balanced random,
// slow consumer, slow producer, bursty.
inline std::vector<Traffic> standard_traffic() {
  return {{"full_rate", 1.0, 1.0},
          {"random_balanced", 0.5, 0.5},
          {"random_slow_consumer", 0.9, 0.25},
          {"random_slow_producer", 0.25, 0.9},
          {"random_bursty", 0.95, 0.9}};
}

struct StreamRun {
  std::string error;  // "" when the run finished and obeyed the AXI rules
  std::vector<Bits> out;
  long first_in = -1;  // cycle of the first input handshake
  long last_out = -1;  // cycle of the last output handshake
  long cycles() const { return last_out - first_in + 1; }
};

// A fresh DUT (constructed here, so files it reads at initialization can be written just
// before the call) takes `in`; the run ends after `n_out` output words, then idles a few
// cycles to catch extra words. `setup`, if given, runs after reset with the streams idle
// (e.g. to write a runtime-writable memory); it clocks the DUT itself and returns "" or
// an error, which ends the run.
template <typename Dut>
StreamRun run_stream(const std::vector<Bits>& in, std::size_t n_out, int out_width, const Traffic& t,
                     uint64_t seed, long max_cycles, const std::function<std::string(Dut&)>& setup = nullptr) {
  StreamRun r;
  auto ctx = std::make_unique<VerilatedContext>();
  auto dut = std::make_unique<Dut>(ctx.get());
  Rng rng(seed);
  auto edge = [&] {
    dut->clk = 0;
    dut->eval();
    dut->clk = 1;
    dut->eval();
  };
  dut->rst_n = 0;
  dut->s_axis_tvalid = 0;
  dut->m_axis_tready = 0;
  for (int i = 0; i < 4; ++i) edge();
  dut->rst_n = 1;
  if (setup) {
    r.error = setup(*dut);
    if (!r.error.empty()) return r;
  }

  std::size_t sent = 0;
  bool offering = false, prev_stalled = false;
  Bits prev_data;
  char msg[256];
  long idle_after = -1;
  for (long cyc = 0;; ++cyc) {
    if (cyc > max_cycles) {
      std::snprintf(msg, sizeof msg, "hang: %zu of %zu output words after %ld cycles (%zu of %zu input words taken)",
                    r.out.size(), n_out, cyc, sent, in.size());
      r.error = msg;
      break;
    }
    if (!offering && sent < in.size() && rng.chance(t.p_valid)) offering = true;
    bool ready = r.out.size() >= n_out || rng.chance(t.p_ready);
    dut->s_axis_tvalid = offering;
    set_port(dut->s_axis_tdata, offering ? in[sent] : Bits{});
    dut->m_axis_tready = ready;
    dut->clk = 0;
    dut->eval();
    bool s_ready = dut->s_axis_tready, m_valid = dut->m_axis_tvalid;
    Bits data = get_port(dut->m_axis_tdata, out_width);
    if (prev_stalled && (!m_valid || data != prev_data)) {
      std::snprintf(msg, sizeof msg, "cycle %ld: output word %zu changed or withdrawn before it was taken", cyc,
                    r.out.size());
      r.error = msg;
      break;
    }
    if (m_valid && ready) {
      if (r.out.size() >= n_out) {
        std::snprintf(msg, sizeof msg, "cycle %ld: extra output word %s after the %zu expected", cyc,
                      to_hex(data).c_str(), n_out);
        r.error = msg;
        break;
      }
      r.out.push_back(data);
      r.last_out = cyc;
    }
    if (offering && s_ready) {
      if (r.first_in < 0) r.first_in = cyc;
      ++sent;
      offering = false;
    }
    prev_stalled = m_valid && !ready;
    prev_data = data;
    dut->clk = 1;
    dut->eval();
    if (r.out.size() >= n_out && idle_after < 0) idle_after = cyc;
    if (idle_after >= 0 && cyc >= idle_after + 8) break;
  }
  if (r.error.empty() && sent != in.size()) {
    std::snprintf(msg, sizeof msg, "all %zu output words out, but only %zu of %zu input words taken", n_out, sent,
                  in.size());
    r.error = msg;
  }
  dut->final();
  return r;
}

// "" when equal, else the first difference; `where(i)` names word i (e.g. "vector 2, word 1").
template <typename Where>
std::string compare_words(const std::vector<Bits>& got, const std::vector<Bits>& want, Where where) {
  if (got.size() != want.size())
    return "got " + std::to_string(got.size()) + " words, expected " + std::to_string(want.size());
  for (std::size_t i = 0; i < got.size(); ++i)
    if (got[i] != want[i]) return where(i) + ": got " + to_hex(got[i]) + ", expected " + to_hex(want[i]);
  return "";
}

}  // namespace tb
