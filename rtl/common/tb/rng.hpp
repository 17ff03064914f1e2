// The testbenches' one source of randomness: std::mt19937_64 from a seed, used only
// through its raw output (fully specified by the C++ standard), so a seed gives the same
// numbers with every compiler and library. That is what lets mvau_gen and the MVAU
// testbench derive the same layer from a seed without reading each other's files.
#pragma once

#include <cstdint>
#include <random>

#include "rtl/common/tb/bits.hpp"

namespace tb {

class Rng {
 public:
  explicit Rng(uint64_t seed) : gen_(seed) {}

  // One raw 64-bit draw.
  uint64_t next() { return gen_(); }

  // Uniform in [lo, hi] from one draw (modulo bias is irrelevant here; determinism is
  // what matters).
  int64_t uniform(int64_t lo, int64_t hi) {
    const uint64_t span = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo) + 1;
    const uint64_t r = span == 0 ? gen_() : gen_() % span;
    return static_cast<int64_t>(static_cast<uint64_t>(lo) + r);
  }

  // Uniform in [0, 1), 53 bits, from one draw.
  double unit() { return static_cast<double>(gen_() >> 11) * 0x1.0p-53; }

  // True with probability p.
  bool chance(double p) { return unit() < p; }

  // `width` random bits (one draw per 32-bit word).
  Bits bits(int width) {
    Bits v = zero_bits(width);
    for (auto& w : v) w = static_cast<uint32_t>(gen_());
    if (width % 32) v.back() &= (1u << (width % 32)) - 1u;
    return v;
  }

 private:
  std::mt19937_64 gen_;
};

}  // namespace tb
