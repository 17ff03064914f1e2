// A Verilated DUT's ports and clock: bit-vector access to ports of every width Verilator
// uses, one clock cycle, and the reset every testbench starts with.
#pragma once

#include <verilated.h>

#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

#include "rtl/common/tb/bits.hpp"

namespace tb {

template <typename T>
inline void set_port(T& port, const Bits& v) {
  uint64_t x = v.empty() ? 0 : v[0];
  if (v.size() > 1) x |= static_cast<uint64_t>(v[1]) << 32;
  port = static_cast<T>(x);
}
template <std::size_t N>
inline void set_port(VlWide<N>& port, const Bits& v) {
  for (std::size_t i = 0; i < N; ++i) port[i] = i < v.size() ? v[i] : 0;
}
template <typename T>
inline Bits get_port(const T& port, int width) {
  const uint64_t x = static_cast<uint64_t>(port);
  Bits v = zero_bits(width);
  v[0] = static_cast<uint32_t>(x);
  if (v.size() > 1) v[1] = static_cast<uint32_t>(x >> 32);
  return v;
}
template <std::size_t N>
inline Bits get_port(const VlWide<N>& port, int width) {
  Bits v = zero_bits(width);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = port[i];
  return v;
}

// Whether the DUT takes weights on s_axis_w (mem_mode "external": a layer's s_axis_w_*,
// or a stitched top's or shell's s_axis_w_* vectors), from Verilator's port members.
template <typename D, typename = void>
struct HasWeightStream : std::false_type {};
template <typename D>
struct HasWeightStream<D, std::void_t<decltype(std::declval<D&>().s_axis_w_tvalid)>> : std::true_type {};

// One clock cycle: evaluated with the clock low, then at the rising edge.
template <typename Dut>
void tick(Dut& d) {
  d.clk = 0;
  d.eval();
  d.clk = 1;
  d.eval();
}

// rst_n low for `cycles` clock cycles, then high (not yet evaluated). The caller first
// sets the inputs that must be idle during reset (valid signals low).
template <typename Dut>
void reset(Dut& d, int cycles = 4) {
  d.rst_n = 0;
  for (int i = 0; i < cycles; ++i) tick(d);
  d.rst_n = 1;
}

}  // namespace tb
