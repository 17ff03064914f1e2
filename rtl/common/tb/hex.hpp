// Bit vectors as hex text: "0x..." for messages, and the $readmemh word files the
// testbenches read (golden vectors) and write (memory contents), one word per line, most
// significant digit first, no prefix. File and format problems throw std::runtime_error.
#pragma once

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "rtl/common/tb/bits.hpp"

namespace tb {

// "0x" and every 32-bit word in 8 digits, most significant first (for messages).
inline std::string to_hex(const Bits& v) {
  std::string s = "0x";
  for (std::size_t i = v.size(); i-- > 0;) {
    char buf[9];
    std::snprintf(buf, sizeof buf, "%08x", v[i]);
    s += buf;
  }
  return s;
}

// The ceil(width/4) hex digits of a `width`-bit word, most significant first, no prefix.
inline std::string hex_digits(const Bits& w, int width) {
  std::string s;
  for (int d = (width + 3) / 4 - 1; d >= 0; --d) s += "0123456789abcdef"[get_field(w, 4 * d, std::min(4, width - 4 * d))];
  return s;
}

// The word a hex string spells (characters other than hex digits are skipped); throws
// if it has a one bit at or above `width`.
inline Bits parse_hex(const std::string& s, int width) {
  Bits v = zero_bits(width);
  int bit = 0;
  for (std::size_t i = s.size(); i-- > 0;) {
    const char c = s[i];
    const int d = (c >= '0' && c <= '9')   ? c - '0'
                  : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                  : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                           : -1;
    if (d < 0) continue;
    for (int k = 0; k < 4; ++k, ++bit)
      if ((d >> k) & 1) {
        if (bit >= width) throw std::runtime_error("word " + s + " wider than " + std::to_string(width) + " bits");
        v[bit / 32] |= 1u << (bit % 32);
      }
  }
  return v;
}

// The words of a hex word file, `width` bits each.
inline std::vector<Bits> read_hex_words(const std::string& path, int width) {
  std::ifstream f(path);
  if (!f) throw std::runtime_error("cannot read " + path);
  std::vector<Bits> out;
  std::string word;
  while (f >> word) out.push_back(parse_hex(word, width));
  return out;
}

// Writes a hex word file of `width`-bit words.
inline void write_hex_words(const std::string& path, const std::vector<Bits>& words, int width) {
  std::ofstream f(path);
  if (!f) throw std::runtime_error("cannot write " + path);
  for (const auto& w : words) f << hex_digits(w, width) << "\n";
  if (!f) throw std::runtime_error("error writing " + path);
}

}  // namespace tb
