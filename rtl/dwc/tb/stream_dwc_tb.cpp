// Self-checking testbench of rtl/dwc/stream_dwc.sv: random frames (including junk in the
// bits of a last input word above the frame), a C++ reference that treats each frame as a
// bit string cut into OUT_WIDTH pieces with the last one zero-padded, every output word
// compared bit-exactly under random input gaps and output back-pressure. At full rate
// the cycle count must equal the schedule documented in stream_dwc.sv, and lie within
// F*max(NIN, NOUT) + {1, 2} (equal widths: exactly F*NIN).
//
// Options: --in_width=, --out_width=, --total_bits= (the module parameters, as BUILD.bazel
//          passes them); --seed=S; --expect_failure (mutation test).
#include <algorithm>

#include "Vdut.h"
#include "rtl/common/tb/bits.hpp"
#include "rtl/common/tb/options.hpp"
#include "rtl/common/tb/rng.hpp"
#include "rtl/common/tb/scenarios.hpp"
#include "rtl/common/tb/stream.hpp"
#include "rtl/common/tb/traffic.hpp"

namespace {

struct Config {
  int in_w, out_w, total;
  uint64_t seed;
  long nin() const { return (total + in_w - 1) / in_w; }
  long nout() const { return (total + out_w - 1) / out_w; }
};

// Full-rate cycles from the first input handshake to the last output handshake: output
// word j leaves one cycle after the input word holding its last frame bit, and at least
// one cycle after output word j-1 (stream_dwc.sv, "Timing").
long schedule(const Config& c, long frames) {
  if (c.in_w == c.out_w) return frames * c.nin();
  long t = -1;
  for (long f = 0; f < frames; ++f)
    for (long j = 0; j < c.nout(); ++j) {
      long last_bit = std::min<long>((j + 1) * c.out_w, c.total) - 1;
      t = std::max(t + 1, f * c.nin() + last_bit / c.in_w + 1);
    }
  return t + 1;
}

std::string run(const Config& c, const tb::Traffic& traffic, uint64_t seed) {
  tb::Rng rng(seed);
  const long words = std::max(c.nin(), c.nout());
  const long frames = std::max<long>(3, (600 + words - 1) / words);
  std::vector<tb::Bits> in, want;
  for (long f = 0; f < frames; ++f) {
    std::vector<bool> frame;
    for (long i = 0; i < c.nin(); ++i) {
      tb::Bits w = rng.bits(c.in_w);  // every bit random, also above the frame's end
      in.push_back(w);
      for (int b = 0; b < c.in_w && (long)frame.size() < c.total; ++b) frame.push_back(tb::get_field(w, b, 1));
    }
    for (long j = 0; j < c.nout(); ++j) {
      tb::Bits o((c.out_w + 31) / 32, 0);
      for (int b = 0; b < c.out_w; ++b) {
        long pos = j * c.out_w + b;
        tb::put_field(o, b, 1, pos < c.total && frame[pos]);
      }
      want.push_back(o);
    }
  }
  auto r = tb::run_stream<Vdut>(in, want.size(), c.out_w, traffic, seed + 1, 60 * (long)(in.size() + want.size()) + 1000);
  if (!r.error.empty()) return r.error;
  std::string diff = tb::compare_words(r.out, want, [&](std::size_t i) {
    return "frame " + std::to_string(i / c.nout()) + ", output word " + std::to_string(i % c.nout());
  });
  if (!diff.empty()) return diff;
  if (traffic.full_rate()) {
    long expected = schedule(c, frames);
    long bound = frames * words + (c.in_w == c.out_w ? 0 : 1);
    if (r.cycles() != expected)
      return "full rate: " + std::to_string(frames) + " frames took " + std::to_string(r.cycles()) +
             " cycles, the schedule says " + std::to_string(expected);
    if (expected < bound || expected > bound + (c.in_w == c.out_w ? 0 : 1))
      return "schedule " + std::to_string(expected) + " outside F*max(NIN, NOUT) + 1..2 = " + std::to_string(bound);
  }
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  tb::Options opt(argc, argv);
  Config c{static_cast<int>(opt.require("in_width")), static_cast<int>(opt.require("out_width")),
           static_cast<int>(opt.require("total_bits")), static_cast<uint64_t>(opt.get("seed", 1))};
  const auto scenarios = tb::traffic_scenarios(
      tb::standard_traffic(), [&c](const tb::Traffic& t, int i) { return run(c, t, c.seed * 1000 + i); });
  return tb::run_scenarios("stream_dwc_tb", scenarios, opt.flag("expect_failure"));
}
