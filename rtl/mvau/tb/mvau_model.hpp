// The MVAU's reference model in C++, shared by the memory-file generator (mvau_gen.cpp,
// run by Bazel before simulation and synthesis) and the testbench (mvau_tb.cpp): layer
// parameters, deterministic random weights/thresholds/inputs, the packing of every stream
// word and memory word, and the exact output. Semantics and formats as in
// rtl/mvau/mvau.sv and python/qnn2fpga/layers/mvau.py.
//
// Determinism: the generator and the testbench both derive the layer from the same seed
// with this code and tb::Rng (rtl/common/tb/rng.hpp: raw std::mt19937_64 output, fully
// specified by the C++ standard), so they agree on every weight and threshold without
// reading each other's files. That is what lets a mutated memory file be caught: the
// testbench's expectation does not come from the file the simulator loaded.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "rtl/common/tb/bits.hpp"
#include "rtl/common/tb/options.hpp"
#include "rtl/common/tb/rng.hpp"

namespace mvau {


// --- datatypes ----------------------------------------------------------------------------
struct DType {
  int bits = 1;
  bool is_signed = false;
  bool bipolar = false;
  int64_t min() const { return bipolar ? -1 : is_signed ? -(int64_t{1} << (bits - 1)) : 0; }
  int64_t max() const {
    return bipolar ? 1 : is_signed ? (int64_t{1} << (bits - 1)) - 1 : (int64_t{1} << bits) - 1;
  }
  // The raw bits of a value: bipolar 1 = +1, 0 = -1; others two's complement / plain.
  int64_t encode(int64_t v) const { return bipolar ? (v > 0 ? 1 : 0) : v; }
};

// A random value of the type (uniform; bipolar: one draw's low bit).
inline int64_t random_value(tb::Rng& r, const DType& t) {
  return t.bipolar ? (r.next() & 1u ? 1 : -1) : r.uniform(t.min(), t.max());
}

// --- parameters: the RTL's, by the same names ------------------------------------------------
struct Params {
  int MW = 0, MH = 0, SIMD = 1, PE = 1, NUM_VECTORS = 1;
  int IN_BITS = 1, IN_SIGNED = 0, IN_BIPOLAR = 0;
  int W_BITS = 1, W_SIGNED = 0, W_BIPOLAR = 0;
  int ACC_BITS = 16, NO_ACT = 0, N_THRES = 1, THR_BITS = 17, OUT_BITS = 1, ACT_VAL = 0,
      OUT_BIPOLAR = 0;
  std::string MEM_MODE = "internal_embedded";

  int sf() const { return MW / SIMD; }
  int nf() const { return MH / PE; }
  int in_width() const { return SIMD * IN_BITS; }
  int w_width() const { return PE * SIMD * W_BITS; }
  int t_width() const { return PE * N_THRES * THR_BITS; }
  int out_width() const { return PE * OUT_BITS; }
  DType in_type() const { return {IN_BITS, IN_SIGNED != 0, IN_BIPOLAR != 0}; }
  DType w_type() const { return {W_BITS, W_SIGNED != 0, W_BIPOLAR != 0}; }
  int64_t acc_min() const { return -(int64_t{1} << (ACC_BITS - 1)); }
  int64_t acc_max() const { return (int64_t{1} << (ACC_BITS - 1)) - 1; }
  // Documented in rtl/mvau/mvau.sv: issue of a group's last tile to its output word.
  int latency() const { return NO_ACT ? 4 : 5; }
  long cycles_per_vector() const { return static_cast<long>(sf()) * nf(); }

  // Reads --NAME=value for every parameter (defaults as above); other options are left
  // to the caller. Throws std::invalid_argument for an inconsistent set.
  static Params from_options(const tb::Options& opt) {
    Params p;
    const std::pair<const char*, int*> ints[] = {
        {"MW", &p.MW},           {"MH", &p.MH},           {"SIMD", &p.SIMD},
        {"PE", &p.PE},           {"NUM_VECTORS", &p.NUM_VECTORS},
        {"IN_BITS", &p.IN_BITS}, {"IN_SIGNED", &p.IN_SIGNED}, {"IN_BIPOLAR", &p.IN_BIPOLAR},
        {"W_BITS", &p.W_BITS},   {"W_SIGNED", &p.W_SIGNED},   {"W_BIPOLAR", &p.W_BIPOLAR},
        {"ACC_BITS", &p.ACC_BITS}, {"NO_ACT", &p.NO_ACT},     {"N_THRES", &p.N_THRES},
        {"THR_BITS", &p.THR_BITS}, {"OUT_BITS", &p.OUT_BITS}, {"ACT_VAL", &p.ACT_VAL},
        {"OUT_BIPOLAR", &p.OUT_BIPOLAR}};
    for (const auto& [name, field] : ints) *field = static_cast<int>(opt.get(name, *field));
    if (opt.has("MEM_MODE")) p.MEM_MODE = opt.text("MEM_MODE");
    p.check();
    return p;
  }

  // Worst-case accumulator range over every x and W of the datatypes.
  void acc_bounds(int64_t& lo, int64_t& hi) const {
    const DType x = in_type(), w = w_type();
    const int64_t c[4] = {x.min() * w.min(), x.min() * w.max(), x.max() * w.min(), x.max() * w.max()};
    lo = MW * std::min(int64_t{0}, *std::min_element(c, c + 4));
    hi = MW * std::max(int64_t{0}, *std::max_element(c, c + 4));
  }

  void check() const {
    auto fail = [](const std::string& m) { throw std::invalid_argument("mvau params: " + m); };
    if (MW < 1 || MH < 1 || SIMD < 1 || PE < 1 || MW % SIMD || MH % PE) fail("bad shape or folding");
    if ((IN_BIPOLAR && IN_BITS != 1) || (W_BIPOLAR && W_BITS != 1)) fail("bipolar needs 1 bit");
    if (ACC_BITS < 2 || ACC_BITS > 62) fail("ACC_BITS out of the model's range");
    int64_t lo, hi;
    acc_bounds(lo, hi);
    if (lo < acc_min() || hi > acc_max()) fail("ACC_BITS too narrow for the datatypes and MW");
    if (NO_ACT && OUT_BITS != ACC_BITS) fail("NO_ACT needs OUT_BITS == ACC_BITS");
    if (!NO_ACT && (N_THRES < 1 || THR_BITS < ACC_BITS + 1)) fail("thresholds need THR_BITS >= ACC_BITS + 1");
    if (OUT_BIPOLAR && (OUT_BITS != 1 || N_THRES != 1 || ACT_VAL != 0)) fail("bad bipolar output");
    if (MEM_MODE != "internal_embedded" && MEM_MODE != "internal_decoupled" && MEM_MODE != "external")
      fail("unknown MEM_MODE " + MEM_MODE);
  }
};

// --- the layer ------------------------------------------------------------------------------
struct Layer {
  Params p;
  std::vector<int64_t> W;  // W[i * MH + j], i < MW, j < MH
  std::vector<int64_t> T;  // T[j * N_THRES + t], ascending in t

  int64_t w(int i, int j) const { return W[static_cast<size_t>(i) * p.MH + j]; }

  std::vector<int64_t> accumulate(const std::vector<int64_t>& x) const {
    std::vector<int64_t> acc(p.MH, 0);
    for (int i = 0; i < p.MW; ++i)
      for (int j = 0; j < p.MH; ++j) acc[j] += x[i] * w(i, j);
    return acc;
  }

  // out[j] as the value the hardware encodes in OUT_BITS.
  std::vector<int64_t> compute(const std::vector<int64_t>& x) const {
    std::vector<int64_t> acc = accumulate(x);
    if (p.NO_ACT) return acc;
    std::vector<int64_t> out(p.MH);
    for (int j = 0; j < p.MH; ++j) {
      int64_t n = 0;
      for (int t = 0; t < p.N_THRES; ++t) n += acc[j] >= T[static_cast<size_t>(j) * p.N_THRES + t];
      out[j] = p.ACT_VAL + n;
    }
    return out;
  }

  // --- stream and memory words -----------------------------------------------------------
  std::vector<tb::Bits> input_words(const std::vector<int64_t>& x) const {
    std::vector<tb::Bits> words;
    const DType t = p.in_type();
    for (int sf = 0; sf < p.sf(); ++sf) {
      tb::Bits v = tb::zero_bits(p.in_width());
      for (int s = 0; s < p.SIMD; ++s) tb::put_field(v, s * p.IN_BITS, p.IN_BITS, t.encode(x[sf * p.SIMD + s]));
      words.push_back(v);
    }
    return words;
  }

  std::vector<tb::Bits> output_words(const std::vector<int64_t>& out) const {
    std::vector<tb::Bits> words;
    for (int nf = 0; nf < p.nf(); ++nf) {
      tb::Bits v = tb::zero_bits(p.out_width());
      for (int pe = 0; pe < p.PE; ++pe) tb::put_field(v, pe * p.OUT_BITS, p.OUT_BITS, out[nf * p.PE + pe]);
      words.push_back(v);
    }
    return words;
  }

  // Line nf * SF + sf; lane (pe, s) at bits [(pe * SIMD + s) * W_BITS +: W_BITS].
  std::vector<tb::Bits> weight_words() const {
    std::vector<tb::Bits> words;
    const DType t = p.w_type();
    for (int nf = 0; nf < p.nf(); ++nf)
      for (int sf = 0; sf < p.sf(); ++sf) {
        tb::Bits v = tb::zero_bits(p.w_width());
        for (int pe = 0; pe < p.PE; ++pe)
          for (int s = 0; s < p.SIMD; ++s)
            tb::put_field(v, (pe * p.SIMD + s) * p.W_BITS, p.W_BITS, t.encode(w(sf * p.SIMD + s, nf * p.PE + pe)));
        words.push_back(v);
      }
    return words;
  }

  // Line nf; (pe, t) at bits [(pe * N_THRES + t) * THR_BITS +: THR_BITS].
  std::vector<tb::Bits> threshold_words() const {
    std::vector<tb::Bits> words;
    for (int nf = 0; nf < p.nf(); ++nf) {
      tb::Bits v = tb::zero_bits(p.t_width());
      for (int pe = 0; pe < p.PE; ++pe)
        for (int t = 0; t < p.N_THRES; ++t)
          tb::put_field(v, (pe * p.N_THRES + t) * p.THR_BITS, p.THR_BITS,
                    T[static_cast<size_t>(nf * p.PE + pe) * p.N_THRES + t]);
      words.push_back(v);
    }
    return words;
  }
};

// Random input vector; kind 1 = every element at the type's minimum, 2 = maximum (with
// the extreme weight columns of make_layer, these reach the accumulator's range ends).
inline std::vector<int64_t> make_input(const Params& p, tb::Rng& r, int kind = 0) {
  std::vector<int64_t> x(p.MW);
  const DType t = p.in_type();
  for (auto& v : x) v = kind == 1 ? t.min() : kind == 2 ? t.max() : random_value(r, t);
  return x;
}

// The layer for a seed. Weights: uniform over the weight type, except that columns 0 and
// 1 (when they exist) hold the type's minimum and maximum everywhere, so the extreme
// inputs drive the accumulator to the ends of its worst-case range. Thresholds: per
// channel spread over the accumulator values random inputs actually produce (mean +- 2
// standard deviations of a calibration set), sorted, with repeats allowed; every fourth
// channel also gets the clip values acc_min and acc_max + 1 at its ends (always / never
// reached), as the compiler emits after clipping to the accumulator range.
inline Layer make_layer(const Params& p, uint64_t seed) {
  Layer L{p, {}, {}};
  tb::Rng r(seed);
  const DType wt = p.w_type();
  L.W.resize(static_cast<size_t>(p.MW) * p.MH);
  for (int i = 0; i < p.MW; ++i)
    for (int j = 0; j < p.MH; ++j)
      L.W[static_cast<size_t>(i) * p.MH + j] = j == 0 ? wt.min() : j == 1 ? wt.max() : random_value(r, wt);
  if (p.NO_ACT) return L;

  const int calib = 64;
  std::vector<double> sum(p.MH, 0.0), sq(p.MH, 0.0);
  for (int k = 0; k < calib; ++k) {
    auto acc = L.accumulate(make_input(p, r));
    for (int j = 0; j < p.MH; ++j) {
      sum[j] += static_cast<double>(acc[j]);
      sq[j] += static_cast<double>(acc[j]) * static_cast<double>(acc[j]);
    }
  }
  L.T.resize(static_cast<size_t>(p.MH) * p.N_THRES);
  const int64_t lo_clip = p.acc_min(), hi_clip = p.acc_max() + 1;
  for (int j = 0; j < p.MH; ++j) {
    const double mean = sum[j] / calib;
    const double sd = std::sqrt(std::max(0.0, sq[j] / calib - mean * mean));
    const int64_t lo = std::max(lo_clip, static_cast<int64_t>(std::floor(mean - 2 * sd)) - 1);
    const int64_t hi = std::min(hi_clip, static_cast<int64_t>(std::ceil(mean + 2 * sd)) + 1);
    std::vector<int64_t> t(p.N_THRES);
    for (auto& v : t) v = r.uniform(lo, hi);
    std::sort(t.begin(), t.end());
    if (j % 4 == 3) {
      t.front() = lo_clip;
      if (p.N_THRES > 1) t.back() = hi_clip;
    }
    std::copy(t.begin(), t.end(), L.T.begin() + static_cast<long>(j) * p.N_THRES);
  }
  return L;
}

}  // namespace mvau
