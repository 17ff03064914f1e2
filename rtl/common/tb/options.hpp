// Command-line options of the testbenches and generators: --name=value, and --name alone
// as a flag. Anything not starting with "--" is ignored. A missing required option ends
// the program with exit status 2 and a message naming it.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

namespace tb {

class Options {
 public:
  Options(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      if (a.rfind("--", 0) != 0) continue;
      const auto eq = a.find('=');
      if (eq == std::string::npos) values_[a.substr(2)] = "1";
      else values_[a.substr(2, eq - 2)] = a.substr(eq + 1);
    }
  }

  bool has(const std::string& name) const { return values_.count(name) != 0; }
  // A flag: --name (or --name=anything).
  bool flag(const std::string& name) const { return has(name); }

  // Integers, in C notation (decimal, 0x hex, 0 octal).
  long get(const std::string& name, long fallback) const {
    return has(name) ? std::strtol(values_.at(name).c_str(), nullptr, 0) : fallback;
  }
  long require(const std::string& name) const { return std::strtol(require_text(name).c_str(), nullptr, 0); }

  double real(const std::string& name, double fallback) const {
    return has(name) ? std::strtod(values_.at(name).c_str(), nullptr) : fallback;
  }

  // The text of --name=VALUE, or "" when absent.
  std::string text(const std::string& name) const { return has(name) ? values_.at(name) : std::string(); }
  std::string require_text(const std::string& name) const {
    if (!has(name)) {
      std::fprintf(stderr, "testbench: missing required option --%s=VALUE\n", name.c_str());
      std::exit(2);
    }
    return values_.at(name);
  }

 private:
  std::map<std::string, std::string> values_;
};

}  // namespace tb
