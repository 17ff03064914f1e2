// Traffic patterns: how often a stream testbench's producers offer a word and its
// consumer takes one, per cycle.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "rtl/common/tb/scenarios.hpp"

namespace tb {

struct Traffic {
  std::string name;
  double p_valid = 1.0;  // chance per cycle that the producer offers its next word
  double p_ready = 1.0;  // chance per cycle that the consumer is ready
  double p_side = 1.0;   // as p_valid, for a second input stream (weights) where there is one
  bool full_rate() const { return p_valid == 1.0 && p_ready == 1.0 && p_side == 1.0; }
};

// The usual mix: full rate (the one where cycle counts are checked), balanced random,
// slow consumer, slow producer, bursty.
inline std::vector<Traffic> standard_traffic() {
  return {{"full_rate", 1.0, 1.0},
          {"random_balanced", 0.5, 0.5},
          {"random_slow_consumer", 0.9, 0.25},
          {"random_slow_producer", 0.25, 0.9},
          {"random_bursty", 0.95, 0.9}};
}

// One scenario per pattern, named after it, running run(pattern, index of the pattern).
template <typename Run>
std::vector<Scenario> traffic_scenarios(const std::vector<Traffic>& patterns, Run run) {
  std::vector<Scenario> out;
  for (std::size_t i = 0; i < patterns.size(); ++i) {
    const Traffic t = patterns[i];
    const int index = static_cast<int>(i);
    out.push_back({t.name, [run, t, index] { return run(t, index); }});
  }
  return out;
}

}  // namespace tb
