// Shared pieces of the C++ Verilator testbenches: command-line options, bit-vector
// access that works for any port width, deterministic randomness, and a JUnit report
// (written to $XML_OUTPUT_FILE under `bazel test`) with one test case per scenario.
#pragma once

#include <verilated.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace tb {

// A bit vector of arbitrary width, stored as 32-bit words, least significant first.
using Bits = std::vector<uint32_t>;

// --- port access, for every width Verilator uses --------------------------------------
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
  uint64_t x = static_cast<uint64_t>(port);
  Bits v((width + 31) / 32);
  v[0] = static_cast<uint32_t>(x);
  if (v.size() > 1) v[1] = static_cast<uint32_t>(x >> 32);
  return v;
}
template <std::size_t N>
inline Bits get_port(const VlWide<N>& port, int width) {
  Bits v((width + 31) / 32);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = port[i];
  return v;
}

inline std::string to_hex(const Bits& v) {
  std::ostringstream s;
  s << "0x";
  for (std::size_t i = v.size(); i-- > 0;) {
    char buf[9];
    std::snprintf(buf, sizeof buf, "%08x", v[i]);
    s << buf;
  }
  return s.str();
}

// --- randomness -------------------------------------------------------------------------
class Rng {
 public:
  explicit Rng(uint64_t seed) : gen_(seed) {}
  bool chance(double p) { return std::uniform_real_distribution<double>(0.0, 1.0)(gen_) < p; }
  Bits bits(int width) {
    Bits v((width + 31) / 32);
    for (auto& w : v) w = static_cast<uint32_t>(gen_());
    if (width % 32) v.back() &= (1u << (width % 32)) - 1u;
    return v;
  }

 private:
  std::mt19937_64 gen_;
};

// --- options: --name=value ----------------------------------------------------------------
class Options {
 public:
  Options(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
      std::string a = argv[i];
      if (a.rfind("--", 0) != 0) continue;
      auto eq = a.find('=');
      if (eq == std::string::npos) values_[a.substr(2)] = "1";
      else values_[a.substr(2, eq - 2)] = a.substr(eq + 1);
    }
  }
  long get(const std::string& name, long fallback) const {
    auto it = values_.find(name);
    return it == values_.end() ? fallback : std::strtol(it->second.c_str(), nullptr, 0);
  }
  long require(const std::string& name) const {
    auto it = values_.find(name);
    if (it == values_.end()) {
      std::fprintf(stderr, "testbench: missing required option --%s=N\n", name.c_str());
      std::exit(2);
    }
    return std::strtol(it->second.c_str(), nullptr, 0);
  }
  double real(const std::string& name, double fallback) const {
    auto it = values_.find(name);
    return it == values_.end() ? fallback : std::strtod(it->second.c_str(), nullptr);
  }
  // The value of --name=VALUE, or "" when absent.
  std::string text(const std::string& name) const {
    auto it = values_.find(name);
    return it == values_.end() ? std::string() : it->second;
  }
  bool flag(const std::string& name) const { return values_.count(name) != 0; }

 private:
  std::map<std::string, std::string> values_;
};

// --- scenarios and the JUnit report -----------------------------------------------------------
// A scenario returns "" on success or a failure message.
struct Scenario {
  std::string name;
  std::function<std::string()> run;
};

inline std::string xml_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '&': o += "&amp;"; break;
      case '"': o += "&quot;"; break;
      default: o += c;
    }
  }
  return o;
}

// Runs every scenario and reports. With expect_failure (mutation tests) the run passes
// only if at least one scenario fails, and is reported as one test case.
inline int run_scenarios(const std::string& suite, const std::vector<Scenario>& scenarios,
                         bool expect_failure) {
  std::vector<std::pair<std::string, std::string>> results;
  int failures = 0;
  for (const auto& sc : scenarios) {
    std::string msg = sc.run();
    std::printf("%s %s/%s%s%s\n", msg.empty() ? "PASS" : "FAIL", suite.c_str(), sc.name.c_str(),
                msg.empty() ? "" : ": ", msg.c_str());
    if (!msg.empty()) ++failures;
    results.emplace_back(sc.name, msg);
  }
  if (expect_failure) {
    std::string msg = failures ? "" : "mutant survived: every scenario passed";
    std::printf("%s %s/mutant_detected (%d of %zu scenarios caught it)\n",
                msg.empty() ? "PASS" : "FAIL", suite.c_str(), failures, scenarios.size());
    results.assign(1, {"mutant_detected", msg});
    failures = msg.empty() ? 0 : 1;
  }
  if (const char* path = std::getenv("XML_OUTPUT_FILE")) {
    std::ofstream x(path);
    x << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n";
    x << "  <testsuite name=\"" << xml_escape(suite) << "\" tests=\"" << results.size()
      << "\" failures=\"" << failures << "\" errors=\"0\">\n";
    for (const auto& r : results) {
      x << "    <testcase classname=\"" << xml_escape(suite) << "\" name=\"" << xml_escape(r.first)
        << "\"";
      if (r.second.empty()) x << "/>\n";
      else x << ">\n      <failure message=\"" << xml_escape(r.second) << "\"/>\n    </testcase>\n";
    }
    x << "  </testsuite>\n</testsuites>\n";
  }
  return failures ? 1 : 0;
}

}  // namespace tb
