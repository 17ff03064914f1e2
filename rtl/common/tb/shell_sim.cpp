// Script-driven testbench of the accelerator shell (rtl/common/shell_top.sv.j2, built by
// python/qnn2fpga/shell.py compile_shell): the script's commands run in order while the
// input stream offers the words `feed` has released and the output stream takes words
// whenever `ready` is 1. The log gets one line per output word and per AXI-lite transfer;
// python/qnn2fpga/shell.py run_shell reads it and the tests check it.
//
//   --input=FILE      input stream words, --in_bytes bytes each (little-endian)
//   --in_bytes=N --out_bytes=N   the shell's tdata bytes
//   --weights=FILE    the weight streams (mem_mode "external"; needed when the shell has
//                     s_axis_w_*): line k "BYTES WORDS_FILE" for stream k, in order; its
//                     word is BYTES bytes at the next byte offset of s_axis_w_tdata
//                     (shell.json weight_streams), WORDS_FILE the words it may offer
//   --script=FILE     commands, one per line:
//       feed N        release N more input words
//       ready 0|1     m_axis_0_tready from now on
//       cycles N      run N cycles
//       until_out N   run until N output words have been taken in all (at most 1e6 cycles)
//       write A D     one AXI-lite write (hex address and data, AW and W together)
//       read A        one AXI-lite read (hex address)
//       wfeed K N     release N more words of weight stream K (offered like the input)
//   --log=FILE        "out <hex word> <tlast>", "write <addr> <bresp>",
//                     "read <addr> <rresp> <hex rdata>" lines, in the order they happen,
//                     then "wtaken <k> <words>" per weight stream
// Exit status 0, or 1 with a message (bad script, a transfer or until_out timing out).
#include <verilated.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "Vdut.h"
#include "rtl/common/tb/bits.hpp"
#include "rtl/common/tb/dut.hpp"
#include "rtl/common/tb/options.hpp"

namespace {

constexpr long kMaxCycles = 1000000;

[[noreturn]] void die(const std::string& msg) {
  std::fprintf(stderr, "shell_sim: %s\n", msg.c_str());
  std::exit(1);
}


struct WeightStream {
  int bytes = 0, byte_offset = 0;
  std::vector<tb::Bits> words;
  long next = 0, released = 0;
};

// Drives the weight streams' released words (the tvalid bits offered: none in reset).
template <typename D>
uint64_t offer_weights(D& dut, const std::vector<WeightStream>& ws) {
  uint64_t valid = 0;
  if constexpr (tb::HasWeightStream<D>::value) {
    tb::Bits data = tb::zero_bits(8 * (ws.back().byte_offset + ws.back().bytes));
    for (std::size_t k = 0; k < ws.size(); ++k) {
      const WeightStream& w = ws[k];
      if (!dut.ap_rst_n || w.next >= w.released) continue;
      valid |= uint64_t{1} << k;
      const tb::Bits& word = w.words[static_cast<std::size_t>(w.next)];
      tb::put_bits(data, 8 * w.byte_offset, word, 8 * w.bytes);
    }
    tb::set_port(dut.s_axis_w_tdata, data);
    dut.s_axis_w_tvalid = static_cast<std::remove_reference_t<decltype(dut.s_axis_w_tvalid)>>(valid);
  } else {
    (void)dut, (void)ws;
  }
  return valid;
}

// Counts the offered weight words taken (after the clock-low evaluation).
template <typename D>
void take_weights(const D& dut, std::vector<WeightStream>& ws, uint64_t offered) {
  if constexpr (tb::HasWeightStream<D>::value) {
    const uint64_t ready = static_cast<uint64_t>(dut.s_axis_w_tready);
    for (std::size_t k = 0; k < ws.size(); ++k)
      if ((offered >> k) & (ready >> k) & 1u) ++ws[k].next;
  } else {
    (void)dut, (void)ws, (void)offered;
  }
}

class Bench {
 public:
  Bench(std::vector<tb::Bits> input, int out_bytes, std::vector<WeightStream> weights, FILE* log)
      : dut_(std::make_unique<Vdut>(ctx_.get())),
        input_(std::move(input)),
        weights_(std::move(weights)),
        out_bits_(8 * out_bytes),
        log_(log) {
    if (weights_.empty() == tb::HasWeightStream<Vdut>::value)
      die(weights_.empty() ? "the shell has weight streams (s_axis_w): give --weights"
                           : "--weights given, but the shell has no s_axis_w port");
    if (weights_.size() > 64) die("more than 64 weight streams");
    dut_->s_axis_0_tvalid = 0;
    dut_->m_axis_0_tready = 0;
    dut_->s_axi_control_awvalid = 0;
    dut_->s_axi_control_wvalid = 0;
    dut_->s_axi_control_arvalid = 0;
    dut_->s_axi_control_bready = 0;
    dut_->s_axi_control_rready = 0;
    dut_->ap_rst_n = 0;
    for (int i = 0; i < 4; ++i) cycle();
    dut_->ap_rst_n = 1;
  }

  // One clock cycle: inputs set, evaluated with the clock low, handshakes sampled, rising edge.
  void cycle() {
    const bool offer = dut_->ap_rst_n && next_ < released_;
    dut_->s_axis_0_tvalid = offer;
    if (offer) tb::set_port(dut_->s_axis_0_tdata, input_[next_]);
    dut_->m_axis_0_tready = ready_;
    const uint64_t woffer = offer_weights(*dut_, weights_);
    dut_->ap_clk = 0;
    dut_->eval();
    if (offer && dut_->s_axis_0_tready) ++next_;
    take_weights(*dut_, weights_, woffer);
    if (dut_->ap_rst_n && ready_ && dut_->m_axis_0_tvalid) {
      const tb::Bits w = tb::get_port(dut_->m_axis_0_tdata, out_bits_);
      std::string hex;
      for (int b = (out_bits_ + 3) / 4 - 1; b >= 0; --b) hex += "0123456789abcdef"[(w[b / 8] >> (4 * (b % 8))) & 0xf];
      std::fprintf(log_, "out %s %d\n", hex.c_str(), dut_->m_axis_0_tlast ? 1 : 0);
      ++taken_;
    }
    dut_->ap_clk = 1;
    dut_->eval();
  }

  void feed(long n) {
    released_ += n;
    if (released_ > static_cast<long>(input_.size())) die("feed past the end of the input");
  }
  void ready(bool r) { ready_ = r; }
  void wfeed(std::size_t k, long n) {
    if (k >= weights_.size()) die("wfeed: no weight stream " + std::to_string(k));
    weights_[k].released += n;
    if (weights_[k].released > static_cast<long>(weights_[k].words.size()))
      die("wfeed past the end of weight stream " + std::to_string(k));
  }
  void log_weights() const {
    for (std::size_t k = 0; k < weights_.size(); ++k) std::fprintf(log_, "wtaken %zu %ld\n", k, weights_[k].next);
  }
  void until_out(long n) {
    for (long c = 0; taken_ < n; ++c) {
      if (c > kMaxCycles) die("until_out " + std::to_string(n) + ": only " + std::to_string(taken_) + " words");
      cycle();
    }
  }

  void write(uint32_t addr, uint32_t data) {
    bool aw = true, w = true;
    long c = 0;
    dut_->s_axi_control_awaddr = addr;
    dut_->s_axi_control_wdata = data;
    dut_->s_axi_control_wstrb = 0xf;
    while (aw || w) {
      dut_->s_axi_control_awvalid = aw;
      dut_->s_axi_control_wvalid = w;
      dut_->ap_clk = 0;
      dut_->eval();
      const bool aw_taken = aw && dut_->s_axi_control_awready, w_taken = w && dut_->s_axi_control_wready;
      cycle();
      aw = aw && !aw_taken;
      w = w && !w_taken;
      timeout(++c, "write");
    }
    dut_->s_axi_control_awvalid = 0;
    dut_->s_axi_control_wvalid = 0;
    dut_->s_axi_control_bready = 1;
    for (;;) {
      dut_->ap_clk = 0;
      dut_->eval();
      const bool done = dut_->s_axi_control_bvalid;
      const int resp = dut_->s_axi_control_bresp;
      cycle();
      if (done) {
        std::fprintf(log_, "write %x %d\n", addr, resp);
        break;
      }
      timeout(++c, "write response");
    }
    dut_->s_axi_control_bready = 0;
  }

  void read(uint32_t addr) {
    long c = 0;
    dut_->s_axi_control_araddr = addr;
    for (bool ar = true; ar;) {
      dut_->s_axi_control_arvalid = 1;
      dut_->ap_clk = 0;
      dut_->eval();
      ar = !dut_->s_axi_control_arready;
      cycle();
      timeout(++c, "read");
    }
    dut_->s_axi_control_arvalid = 0;
    dut_->s_axi_control_rready = 1;
    for (;;) {
      dut_->ap_clk = 0;
      dut_->eval();
      const bool done = dut_->s_axi_control_rvalid;
      const int resp = dut_->s_axi_control_rresp;
      const uint32_t data = dut_->s_axi_control_rdata;
      cycle();
      if (done) {
        std::fprintf(log_, "read %x %d %x\n", addr, resp, data);
        break;
      }
      timeout(++c, "read data");
    }
    dut_->s_axi_control_rready = 0;
  }

 private:
  static void timeout(long c, const char* what) {
    if (c > kMaxCycles) die(std::string("AXI-lite ") + what + " not answered");
  }

  std::unique_ptr<VerilatedContext> ctx_ = std::make_unique<VerilatedContext>();
  std::unique_ptr<Vdut> dut_;
  std::vector<tb::Bits> input_;
  std::vector<WeightStream> weights_;
  int out_bits_;
  FILE* log_;
  long next_ = 0, released_ = 0, taken_ = 0;
  bool ready_ = false;
};

std::vector<tb::Bits> read_words(const std::string& path, int bytes) {
  std::ifstream f(path, std::ios::binary);
  if (!f) die("cannot read " + path);
  const std::string data((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (data.size() % bytes) die(path + ": not whole words of " + std::to_string(bytes) + " bytes");
  std::vector<tb::Bits> out;
  for (std::size_t i = 0; i < data.size(); i += bytes)
    out.push_back(tb::from_bytes(reinterpret_cast<const unsigned char*>(data.data() + i), 8 * bytes));
  return out;
}

// The weight streams --weights lists (none without it).
std::vector<WeightStream> read_weights(const std::string& path) {
  std::vector<WeightStream> out;
  if (path.empty()) return out;
  std::ifstream f(path);
  if (!f) die("cannot read " + path);
  std::string line;
  int offset = 0;
  while (std::getline(f, line)) {
    std::istringstream in(line);
    WeightStream w;
    std::string file;
    if (!(in >> w.bytes >> file)) continue;
    if (w.bytes <= 0) die("bad weight stream line in " + path + ": " + line);
    w.byte_offset = offset;
    offset += w.bytes;
    w.words = read_words(file, w.bytes);
    out.push_back(std::move(w));
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  tb::Options opt(argc, argv);
  const int in_bytes = static_cast<int>(opt.require("in_bytes")), out_bytes = static_cast<int>(opt.require("out_bytes"));
  FILE* log = std::fopen(opt.require_text("log").c_str(), "w");
  if (!log) die("cannot write the log");
  std::ifstream script(opt.require_text("script"));
  if (!script) die("cannot read the script");
  Bench bench(read_words(opt.require_text("input"), in_bytes), out_bytes, read_weights(opt.text("weights")), log);
  std::string line;
  while (std::getline(script, line)) {
    std::istringstream in(line);
    std::string cmd;
    if (!(in >> cmd)) continue;
    std::string a, b;
    in >> a >> b;
    if (cmd == "feed") bench.feed(std::stol(a));
    else if (cmd == "ready") bench.ready(a == "1");
    else if (cmd == "cycles") for (long n = std::stol(a); n > 0; --n) bench.cycle();
    else if (cmd == "until_out") bench.until_out(std::stol(a));
    else if (cmd == "write") bench.write(std::stoul(a, nullptr, 16), std::stoul(b, nullptr, 16));
    else if (cmd == "read") bench.read(std::stoul(a, nullptr, 16));
    else if (cmd == "wfeed") bench.wfeed(std::stoul(a), std::stol(b));
    else die("unknown command: " + line);
  }
  bench.log_weights();
  std::fclose(log);
  return 0;
}
