// Bit vectors of any width, as the testbenches and the C++ reference models hold stream
// and memory words: fields (elements packed into a word) and the little-endian byte
// layout of packed stream files. No Verilator dependency (mvau_gen uses it at build time).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace tb {

// A bit vector stored as 32-bit words, least significant first.
using Bits = std::vector<uint32_t>;

// `width` zero bits.
inline Bits zero_bits(int width) { return Bits((width + 31) / 32, 0u); }

// Writes the low `width` bits of `value` at bit `lsb`, two's complement: bits beyond the
// 64 of `value` repeat its sign.
inline void put_field(Bits& w, int lsb, int width, int64_t value) {
  for (int b = 0; b < width; ++b) {
    const int pos = lsb + b;
    const uint32_t bit = b < 64 ? static_cast<uint32_t>((static_cast<uint64_t>(value) >> b) & 1u)
                                : static_cast<uint32_t>(value < 0);
    w[pos / 32] = (w[pos / 32] & ~(1u << (pos % 32))) | (bit << (pos % 32));
  }
}

// The low `width` bits of `src` written at bit `lsb` of `dst`.
inline void put_bits(Bits& dst, int lsb, const Bits& src, int width) {
  for (int at = 0; at < width; at += 32)
    put_field(dst, lsb + at, width - at < 32 ? width - at : 32, static_cast<int64_t>(src[at / 32]));
}

// Bits [lsb, lsb + width) as an unsigned number (at most its low 64 bits).
inline uint64_t get_field(const Bits& w, int lsb, int width) {
  uint64_t v = 0;
  for (int b = 0; b < width && b < 64; ++b) {
    const int pos = lsb + b;
    v |= static_cast<uint64_t>((w[pos / 32] >> (pos % 32)) & 1u) << b;
  }
  return v;
}

// One word of elements of `bits` bits each: element i at bits [i*bits +: bits].
inline Bits pack(const std::vector<int64_t>& elems, int bits) {
  Bits w = zero_bits(static_cast<int>(elems.size()) * bits);
  for (std::size_t i = 0; i < elems.size(); ++i) put_field(w, static_cast<int>(i) * bits, bits, elems[i]);
  return w;
}

// --- packed stream files: ceil(width/8) little-endian bytes per word -------------------
inline int word_bytes(int width) { return (width + 7) / 8; }

// The word of `width` bits stored in word_bytes(width) bytes at `bytes`.
inline Bits from_bytes(const unsigned char* bytes, int width) {
  Bits w = zero_bits(width);
  for (int b = 0; b < word_bytes(width); ++b) w[b / 4] |= static_cast<uint32_t>(bytes[b]) << (8 * (b % 4));
  return w;
}

// Appends the word_bytes(width) bytes of `w`.
inline void append_bytes(std::vector<unsigned char>& out, const Bits& w, int width) {
  for (int b = 0; b < word_bytes(width); ++b) out.push_back(static_cast<unsigned char>(w[b / 4] >> (8 * (b % 4))));
}

}  // namespace tb
