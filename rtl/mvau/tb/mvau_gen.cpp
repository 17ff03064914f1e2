// Writes an MVAU's memory files for a parameter set and seed (the layer of
// mvau_model.hpp's make_layer), before simulation or synthesis:
//   mvau_gen --MW=.. --MH=.. ... --seed=S [--weights=W.hex] [--thresholds=T.hex]
//            [--flip_weight_bit=N] [--zero_weights]
// --flip_weight_bit=N flips bit N of the weight memory (word N / width, bit N % width):
// a deliberately wrong file for the mutation test. --zero_weights writes a weight file of
// zeros (a runtime-writable memory's initial contents, which the testbench overwrites).
#include <cstdio>
#include <stdexcept>
#include <string>

#include "rtl/common/tb/bits.hpp"
#include "rtl/common/tb/hex.hpp"
#include "rtl/common/tb/options.hpp"
#include "rtl/mvau/tb/mvau_model.hpp"

int main(int argc, char** argv) {
  const tb::Options opt(argc, argv);
  const std::string weights = opt.text("weights"), thresholds = opt.text("thresholds");
  const long seed = opt.get("seed", -1), flip = opt.get("flip_weight_bit", -1);
  const bool zero = opt.flag("zero_weights");
  try {
    if (seed < 0) throw std::invalid_argument("mvau_gen: --seed=S is required");
    const mvau::Params p = mvau::Params::from_options(opt);
    const mvau::Layer layer = mvau::make_layer(p, static_cast<uint64_t>(seed));
    if (!weights.empty()) {
      auto words = layer.weight_words();
      if (zero)
        for (auto& w : words) w = tb::zero_bits(p.w_width());
      if (flip >= 0) {
        const long width = p.w_width();
        if (flip >= width * static_cast<long>(words.size()))
          throw std::invalid_argument("mvau_gen: --flip_weight_bit beyond the weight memory");
        auto& w = words[flip / width];
        const long bit = flip % width;
        w[bit / 32] ^= 1u << (bit % 32);
      }
      tb::write_hex_words(weights, words, p.w_width());
    }
    if (!thresholds.empty()) {
      if (p.NO_ACT) throw std::invalid_argument("mvau_gen: NO_ACT=1 has no thresholds");
      tb::write_hex_words(thresholds, layer.threshold_words(), p.t_width());
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 2;
  }
  return 0;
}
