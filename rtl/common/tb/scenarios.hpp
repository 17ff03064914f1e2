// Scenarios and their report: each scenario returns "" on success or a failure message;
// run_scenarios prints one PASS/FAIL line each and writes a JUnit report (to
// $XML_OUTPUT_FILE under `bazel test`) with one test case per scenario.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace tb {

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

// Runs every scenario and reports; the exit status for main. With expect_failure
// (mutation tests) the run passes only if at least one scenario fails, and is reported as
// one test case.
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
