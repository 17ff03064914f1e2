// Driving AXI-stream DUTs (ports clk, rst_n, s_axis_{tdata,tvalid,tready},
// m_axis_{tdata,tvalid,tready}): the output rule every stream testbench checks, and
// run_stream, which takes a one-input, one-output DUT through a word sequence with random
// input gaps and output back-pressure and checks the AXI rules on the way. The layer
// testbenches (thresholding, label_select, stream_dwc) compute the expected words with
// their own reference model and compare them with compare_words.
#pragma once

#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "rtl/common/tb/bits.hpp"
#include "rtl/common/tb/dut.hpp"
#include "rtl/common/tb/hex.hpp"
#include "rtl/common/tb/rng.hpp"
#include "rtl/common/tb/traffic.hpp"

namespace tb {

// The AXI rule on an output: a word presented and not taken stays valid and unchanged
// until it is taken. Call ok() once a cycle, after the clock-low evaluation.
class OutputHold {
 public:
  // False if last cycle's stalled word was changed or withdrawn.
  bool ok(bool valid, bool ready, const Bits& data) {
    const bool good = !(stalled_ && (!valid || data != prev_));
    stalled_ = valid && !ready;
    prev_ = data;
    return good;
  }

 private:
  bool stalled_ = false;
  Bits prev_;
};

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
  dut->s_axis_tvalid = 0;
  dut->m_axis_tready = 0;
  reset(*dut);
  if (setup) {
    r.error = setup(*dut);
    if (!r.error.empty()) return r;
  }

  std::size_t sent = 0;
  bool offering = false;
  OutputHold hold;
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
    const bool ready = r.out.size() >= n_out || rng.chance(t.p_ready);
    dut->s_axis_tvalid = offering;
    set_port(dut->s_axis_tdata, offering ? in[sent] : Bits{});
    dut->m_axis_tready = ready;
    dut->clk = 0;
    dut->eval();
    const bool s_ready = dut->s_axis_tready, m_valid = dut->m_axis_tvalid;
    const Bits data = get_port(dut->m_axis_tdata, out_width);
    if (!hold.ok(m_valid, ready, data)) {
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
