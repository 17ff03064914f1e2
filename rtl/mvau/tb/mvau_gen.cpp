// Writes an MVAU's memory files for a parameter set and seed (the layer of
// mvau_model.hpp's make_layer), before simulation or synthesis:
//   mvau_gen --MW=.. --MH=.. ... --seed=S [--weights=W.hex] [--thresholds=T.hex]
//            [--flip_weight_bit=N] [--zero_weights]
// --flip_weight_bit=N flips bit N of the weight memory (word N / width, bit N % width):
// a deliberately wrong file for the mutation test. --zero_weights writes a weight file of
// zeros (a runtime-writable memory's initial contents, which the testbench overwrites).
#include <cstdio>
#include <string>

#include "rtl/mvau/tb/mvau_model.hpp"

int main(int argc, char** argv) {
  std::string weights, thresholds;
  long seed = -1, flip = -1;
  bool zero = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto val = [&](const char* key) -> const char* {
      std::string k = std::string("--") + key + "=";
      return a.rfind(k, 0) == 0 ? argv[i] + k.size() : nullptr;
    };
    if (const char* v = val("weights")) weights = v;
    if (const char* v = val("thresholds")) thresholds = v;
    if (const char* v = val("seed")) seed = std::strtol(v, nullptr, 0);
    if (const char* v = val("flip_weight_bit")) flip = std::strtol(v, nullptr, 0);
    if (a == "--zero_weights") zero = true;
  }
  try {
    if (seed < 0) throw std::invalid_argument("mvau_gen: --seed=S is required");
    const mvau::Params p = mvau::Params::from_args(argc, argv);
    const mvau::Layer layer = mvau::make_layer(p, static_cast<uint64_t>(seed));
    if (!weights.empty()) {
      auto words = layer.weight_words();
      if (zero)
        for (auto& w : words) w = mvau::zero_bits(p.w_width());
      if (flip >= 0) {
        const long width = p.w_width();
        if (flip >= width * static_cast<long>(words.size()))
          throw std::invalid_argument("mvau_gen: --flip_weight_bit beyond the weight memory");
        auto& w = words[flip / width];
        const long bit = flip % width;
        w[bit / 32] ^= 1u << (bit % 32);
      }
      mvau::write_hex(weights, words, p.w_width());
    }
    if (!thresholds.empty()) {
      if (p.NO_ACT) throw std::invalid_argument("mvau_gen: NO_ACT=1 has no thresholds");
      mvau::write_hex(thresholds, layer.threshold_words(), p.t_width());
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 2;
  }
  return 0;
}
