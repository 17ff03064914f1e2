// C simulation check of the HLS foundations: qnn::Stream ordering and occupancy, and
// AMD's ap_int types doing what the layer templates rely on (lane slicing of packed
// words, signed low-bit products, XNOR-popcount), against plain-integer references.
#include <cstdint>
#include <cstdio>
#include <random>

#include "ap_int.h"
#include "hls/common/stream.hpp"

namespace {

int failures = 0;

void check(bool ok, const char* what) {
  if (!ok) {
    std::printf("FAIL %s\n", what);
    ++failures;
  }
}

constexpr int SIMD = 8;
constexpr int BITS = 4;

// Dot product of SIMD signed BITS-bit lanes packed into one word (lane 0 in the low bits).
ap_int<16> dot(ap_uint<SIMD * BITS> a, ap_uint<SIMD * BITS> b) {
  ap_int<16> acc = 0;
  for (int i = 0; i < SIMD; ++i) {
    ap_int<BITS> x = a.range(BITS * i + BITS - 1, BITS * i);
    ap_int<BITS> y = b.range(BITS * i + BITS - 1, BITS * i);
    acc += x * y;
  }
  return acc;
}

}  // namespace

int main() {
  // Stream order and occupancy.
  qnn::Stream<ap_uint<12>> s("test");
  for (int i = 0; i < 100; ++i) s.write(i * 37);
  check(s.size() == 100 && s.max_size() == 100, "stream size");
  bool order = true;
  for (int i = 0; i < 100; ++i) order &= (s.read() == ap_uint<12>((i * 37) & 0xfff));
  check(order && s.empty(), "stream order");

  // Packed signed lanes.
  std::mt19937 gen(7);
  std::uniform_int_distribution<int> lane(-8, 7);
  for (int t = 0; t < 1000; ++t) {
    ap_uint<SIMD * BITS> a = 0, b = 0;
    int ref = 0;
    for (int i = 0; i < SIMD; ++i) {
      int x = lane(gen), y = lane(gen);
      a.range(BITS * i + BITS - 1, BITS * i) = x;
      b.range(BITS * i + BITS - 1, BITS * i) = y;
      ref += x * y;
    }
    if (dot(a, b) != ref) {
      check(false, "signed 4-bit dot product");
      break;
    }
  }

  // XNOR-popcount equals the bipolar (+1/-1) dot product: 2 * popcount - N.
  std::uniform_int_distribution<uint32_t> word;
  for (int t = 0; t < 1000; ++t) {
    ap_uint<32> w = word(gen), x = word(gen);
    ap_uint<32> agree = ~(w ^ x);
    int pop = 0, ref = 0;
    for (int i = 0; i < 32; ++i) {
      pop += agree[i];
      ref += (w[i] ? 1 : -1) * (x[i] ? 1 : -1);
    }
    if (2 * pop - 32 != ref) {
      check(false, "xnor-popcount");
      break;
    }
  }

  std::printf("%s\n", failures ? "FAILED" : "PASSED");
  return failures ? 1 : 0;
}
