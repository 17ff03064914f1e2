// Whole-design simulator for a stitched accelerator (python/qnn2fpga/rtlsim.py builds it
// with Verilator against the design's top, renamed Vdut).
//
//   sim --design=D.txt --input=IN.bin --output=OUT.bin --report=R.json
//       [--in_p=P] [--out_p=P] [--seed=S] [--frame_interval=C] [--stall_bound=B]
//       [--axilite=W.txt] [--wstream_dir=DIR]
//
// D.txt, one "key values..." line each (written by rtlsim.py):
//   top NAME                      the top module (its scope holds the probed wires)
//   in_width BITS / out_width BITS
//   in_words N / out_words N      stream words per frame at the top's input / output
//   stream NAME PRODUCER CONSUMER every internal stream (wires NAME_tvalid/_tready,
//                                 marked public in the design), in stream order
//   fifo NAME IN_STREAM OUT_STREAM DEPTH
//   wstream NAME NODE WIDTH OFFSET WORDS FILE
//                                 a weight stream (mem_mode "external"): the top's
//                                 s_axis_w_tvalid/_tready bit k (k-th wstream line),
//                                 its word at s_axis_w_tdata[OFFSET +: WIDTH]; FILE (in
//                                 the design's directory, or in --wstream_dir when given)
//                                 holds one frame's WORDS words, sent once per frame
// IN.bin / OUT.bin: stream words as little-endian bytes, ceil(width/8) bytes per word
// (qnn2fpga.packing.pack_bytes). The input holds whole frames.
//
// W.txt: "address data" hex pairs written through the top's s_axilite port after reset,
// before the first frame (runtime-writeable parameters; every write must answer OKAY).
//
// Each cycle the input word (and each weight stream's next word) is offered with
// probability in_p (held until accepted, AXI)
// but not before frame k's start cycle k * frame_interval; the output is accepted with
// probability out_p. Every stream handshake is counted: a FIFO's occupancy is the words
// in minus the words out, whose maximum the report gives per FIFO. When no stream moves
// for stall_bound cycles the run stops and the report names the layers that refuse
// offered input and the full and empty FIFOs. Report (JSON): status ("ok", "stall",
// "extra_output", "weights_left"), frames, cycles, frame_done (cycle each frame's last output word was
// taken), cycles_per_frame (steady state: over the second half of the frames), latency
// (first input word to the first frame's last output word), fifo_max, diagnosis.
// Exit status: 0 ok, 3 stall, extra output or weight words left, 2 bad invocation.
#include <verilated.h>
#include <verilated_syms.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "Vdut.h"
#include "rtl/common/tb/axilite.hpp"
#include "rtl/common/tb/bits.hpp"
#include "rtl/common/tb/dut.hpp"
#include "rtl/common/tb/options.hpp"
#include "rtl/common/tb/rng.hpp"

namespace {

[[noreturn]] void die(const std::string& msg) {
  std::fprintf(stderr, "stitched_sim: %s\n", msg.c_str());
  std::exit(2);
}

struct Stream {
  std::string name, producer, consumer;
  const CData* valid = nullptr;
  const CData* ready = nullptr;
  long words = 0;
};

struct Fifo {
  std::string name;
  int in = -1, out = -1;  // stream indices
  long depth = 0, max = 0;
};

struct WeightStream {
  std::string name, node, file;
  int width = 0, offset = 0;
  long words = 0;                // per frame
  std::vector<tb::Bits> data;    // one frame's words
  long sent = 0, total = 0;      // total: words * frames
  bool offering = false;
};

struct Design {
  std::string top;
  int in_width = 0, out_width = 0;
  long in_words = 0, out_words = 0;
  std::vector<Stream> streams;
  std::vector<Fifo> fifos;
  std::vector<WeightStream> weights;
};

Design read_design(const std::string& path) {
  std::ifstream f(path);
  if (!f) die("cannot read --design=" + path);
  Design d;
  std::string line;
  while (std::getline(f, line)) {
    std::istringstream s(line);
    std::string key;
    if (!(s >> key)) continue;
    if (key == "top") s >> d.top;
    else if (key == "in_width") s >> d.in_width;
    else if (key == "out_width") s >> d.out_width;
    else if (key == "in_words") s >> d.in_words;
    else if (key == "out_words") s >> d.out_words;
    else if (key == "stream") {
      Stream st;
      s >> st.name >> st.producer >> st.consumer;
      d.streams.push_back(st);
    } else if (key == "fifo") {
      Fifo fi;
      std::string in, out;
      s >> fi.name >> in >> out >> fi.depth;
      for (std::size_t i = 0; i < d.streams.size(); ++i) {
        if (d.streams[i].name == in) fi.in = static_cast<int>(i);
        if (d.streams[i].name == out) fi.out = static_cast<int>(i);
      }
      if (fi.in < 0 || fi.out < 0) die("fifo " + fi.name + " names an unknown stream");
      d.fifos.push_back(fi);
    } else if (key == "wstream") {
      WeightStream w;
      s >> w.name >> w.node >> w.width >> w.offset >> w.words >> w.file;
      if (w.width <= 0 || w.words <= 0 || w.file.empty()) die("bad wstream line in " + path + ": " + line);
      d.weights.push_back(w);
    } else {
      die("unknown design key '" + key + "' in " + path);
    }
  }
  if (d.top.empty() || d.in_width <= 0 || d.out_width <= 0 || d.in_words <= 0 || d.out_words <= 0)
    die(path + " lacks top, in_width, out_width, in_words or out_words");
  return d;
}

// The words of a packed stream file (IN.bin).
std::vector<tb::Bits> read_packed_words(const std::string& path, int width) {
  std::ifstream f(path, std::ios::binary);
  if (!f) die("cannot read " + path);
  std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  const std::size_t wb = static_cast<std::size_t>(tb::word_bytes(width));
  if (bytes.size() % wb) die(path + ": size is not a multiple of " + std::to_string(wb) + " bytes");
  std::vector<tb::Bits> words;
  for (std::size_t at = 0; at < bytes.size(); at += wb) words.push_back(tb::from_bytes(&bytes[at], width));
  return words;
}

const CData* probe(const VerilatedScope* scope, const std::string& name) {
  const VerilatedVar* v = scope->varFind(name.c_str());
  if (!v) die("design has no public wire " + name);
  return static_cast<const CData*>(v->datap());
}

std::string json_string(const std::string& s) {
  std::string o = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') o += '\\';
    o += c;
  }
  return o + "\"";
}

std::string join(const std::vector<std::string>& v) {
  std::string o;
  for (const auto& s : v) o += (o.empty() ? "" : ", ") + s;
  return o.empty() ? "none" : o;
}

// Who is waiting for whom when nothing moves.
std::string diagnose(const Design& d, long cycle, long bound, std::size_t got, std::size_t expected) {
  std::vector<std::string> refusing, full, empty;
  for (const auto& s : d.streams)
    if (*s.valid && !*s.ready) refusing.push_back(s.consumer + " (offered by " + s.producer + " on " + s.name + ")");
  for (const auto& f : d.fifos) {
    long occ = d.streams[f.in].words - d.streams[f.out].words;
    if (occ >= f.depth) full.push_back(f.name + " (" + std::to_string(occ) + "/" + std::to_string(f.depth) + ")");
    else if (occ == 0) empty.push_back(f.name);
  }
  std::string weights;
  for (const auto& w : d.weights)
    weights += "; weight stream " + w.name + " of " + w.node + ": " + std::to_string(w.sent) + " of " +
               std::to_string(w.total) + " words taken";
  return "no stream moved for " + std::to_string(bound) + " cycles (stall bound) at cycle " +
         std::to_string(cycle) + ", " + std::to_string(got) + " of " + std::to_string(expected) +
         " output words; layers refusing offered input: " + join(refusing) + "; full FIFOs: " + join(full) +
         "; empty FIFOs: " + join(empty) + weights;
}


// Offers each weight stream's next word (before the clock-low evaluation): a word once
// offered stays until taken; a new one is offered with probability p.
template <typename D>
void offer_weights(D& dut, std::vector<WeightStream>& ws, tb::Rng& rng, double p) {
  if constexpr (tb::HasWeightStream<D>::value) {
    int width = 0;
    for (const auto& w : ws) width = std::max(width, w.offset + w.width);
    tb::Bits data = tb::zero_bits(width);
    uint64_t valid = 0;
    for (std::size_t k = 0; k < ws.size(); ++k) {
      WeightStream& w = ws[k];
      if (!w.offering) w.offering = w.sent < w.total && rng.chance(p);
      if (w.sent < w.total) tb::put_bits(data, w.offset, w.data[static_cast<std::size_t>(w.sent % w.words)], w.width);
      if (w.offering) valid |= uint64_t{1} << k;
    }
    tb::set_port(dut.s_axis_w_tdata, data);
    dut.s_axis_w_tvalid = static_cast<std::remove_reference_t<decltype(dut.s_axis_w_tvalid)>>(valid);
  } else {
    (void)dut, (void)ws, (void)rng, (void)p;
  }
}

// Counts the weight words taken (after the clock-low evaluation); whether any was.
template <typename D>
bool take_weights(D& dut, std::vector<WeightStream>& ws) {
  bool moved = false;
  if constexpr (tb::HasWeightStream<D>::value) {
    const uint64_t ready = static_cast<uint64_t>(dut.s_axis_w_tready);
    for (std::size_t k = 0; k < ws.size(); ++k)
      if (ws[k].offering && ((ready >> k) & 1u)) {
        ++ws[k].sent;
        ws[k].offering = false;
        moved = true;
      }
  } else {
    (void)dut, (void)ws;
  }
  return moved;
}

template <typename D>
void idle_weights(D& dut) {
  if constexpr (tb::HasWeightStream<D>::value) dut.s_axis_w_tvalid = 0;
  else (void)dut;
}

// Performs the writes through the top's s_axilite port; "" or the problem.
template <typename D>
std::string write_axilite(D& dut, const std::vector<std::pair<uint32_t, uint32_t>>& writes, uint64_t seed) {
  if constexpr (tb::HasAxiLite<D>::value) {
    tb::AxiLiteMaster<D> master(seed, tb::AxiLiteTiming{});
    for (const auto& [a, v] : writes) master.write(a, v);
    return tb::axilite_run(dut, master, 100 + 20 * static_cast<long>(writes.size()));
  } else {
    (void)dut, (void)writes, (void)seed;
    return "--axilite given, but the design has no s_axilite port (no runtime-writeable layer)";
  }
}

}  // namespace

int main(int argc, char** argv) {
  tb::Options opt(argc, argv);
  std::map<std::string, std::string> paths;
  for (const char* k : {"design", "input", "output", "report"}) {
    paths[k] = opt.text(k);
    if (paths[k].empty()) die(std::string("--") + k + "=FILE is required");
  }
  const double in_p = opt.real("in_p", 1.0), out_p = opt.real("out_p", 1.0);
  const long interval = opt.get("frame_interval", 0);
  const long bound = opt.get("stall_bound", 100000);
  Design d = read_design(paths["design"]);
  const std::vector<tb::Bits> input = read_packed_words(paths["input"], d.in_width);
  if (input.empty() || input.size() % d.in_words)
    die("input holds " + std::to_string(input.size()) + " words, not whole frames of " + std::to_string(d.in_words));
  const long frames = static_cast<long>(input.size() / d.in_words);
  const std::size_t expected = static_cast<std::size_t>(frames * d.out_words);
  if (d.weights.size() > 64) die("more than 64 weight streams");
  if (d.weights.empty() == tb::HasWeightStream<Vdut>::value)
    die(d.weights.empty() ? "the top has weight streams (s_axis_w), but the design lists none"
                          : "the design lists weight streams, but the top has no s_axis_w port");
  const std::string wdir = opt.text("wstream_dir");
  for (auto& w : d.weights) {
    const std::string file = wdir.empty() ? w.file : wdir + "/" + w.name + ".bin";
    w.data = read_packed_words(file, w.width);
    if (static_cast<long>(w.data.size()) != w.words)
      die(file + " holds " + std::to_string(w.data.size()) + " words, the design's " + w.name + " takes " +
          std::to_string(w.words) + " per frame");
    w.total = w.words * frames;
  }

  auto ctx = std::make_unique<VerilatedContext>();
  auto dut = std::make_unique<Vdut>(ctx.get());
  const VerilatedScope* scope = ctx->scopeFind(("TOP." + d.top).c_str());
  if (!scope) die("no scope TOP." + d.top + " (is the top's name right?)");
  for (auto& s : d.streams) {
    s.valid = probe(scope, s.name + "_tvalid");
    s.ready = probe(scope, s.name + "_tready");
  }

  tb::Rng rng(static_cast<uint64_t>(opt.get("seed", 1)));
  dut->s_axis_tvalid = 0;
  dut->m_axis_tready = 0;
  idle_weights(*dut);
  tb::reset(*dut);
  const std::string axilite = opt.text("axilite");
  if (!axilite.empty()) {  // runtime parameter writes before the first frame
    std::vector<std::pair<uint32_t, uint32_t>> writes;
    if (!tb::read_axilite_writes(axilite, &writes)) die("cannot read " + axilite + " (address data hex pairs)");
    const std::string err = write_axilite(*dut, writes, static_cast<uint64_t>(opt.get("seed", 1)));
    if (!err.empty()) die(err);
  }

  std::vector<unsigned char> out_bytes;
  std::vector<long> frame_done;
  std::size_t sent = 0, got = 0;
  long cycle = 0, first_in = -1, idle = 0;
  bool offering = false;
  std::string status = "ok", diagnosis;
  while (got < expected) {
    const long frame = static_cast<long>(sent / d.in_words);
    if (!offering) offering = sent < input.size() && cycle >= frame * interval && rng.chance(in_p);
    const bool ready = rng.chance(out_p);
    dut->s_axis_tvalid = offering;
    if (sent < input.size()) tb::set_port(dut->s_axis_tdata, input[sent]);
    dut->m_axis_tready = ready;
    offer_weights(*dut, d.weights, rng, in_p);
    dut->clk = 0;
    dut->eval();
    bool moved = take_weights(*dut, d.weights);
    for (auto& s : d.streams)
      if (*s.valid && *s.ready) {
        ++s.words;
        moved = true;
      }
    for (auto& f : d.fifos) f.max = std::max(f.max, d.streams[f.in].words - d.streams[f.out].words);
    if (offering && dut->s_axis_tready) {
      if (first_in < 0) first_in = cycle;
      ++sent;
      offering = false;
      moved = true;
    }
    if (ready && dut->m_axis_tvalid) {
      tb::append_bytes(out_bytes, tb::get_port(dut->m_axis_tdata, d.out_width), d.out_width);
      if (++got % d.out_words == 0) frame_done.push_back(cycle);
      moved = true;
    }
    idle = moved ? 0 : idle + 1;
    if (idle >= bound) {
      status = "stall";
      diagnosis = diagnose(d, cycle, bound, got, expected);
      break;
    }
    dut->clk = 1;
    dut->eval();
    ++cycle;
  }
  for (const auto& w : d.weights)
    if (status == "ok" && w.sent != w.total) {
      status = "weights_left";
      diagnosis = "all output words came with " + std::to_string(w.total - w.sent) + " of " +
                  std::to_string(w.total) + " words of weight stream " + w.name + " (" + w.node + ") not taken";
    }
  if (status == "ok") {  // nothing more may come out
    dut->s_axis_tvalid = 0;
    idle_weights(*dut);
    dut->m_axis_tready = 1;
    for (int i = 0; i < 64 && status == "ok"; ++i) {
      dut->clk = 0;
      dut->eval();
      if (dut->m_axis_tvalid) {
        status = "extra_output";
        diagnosis = "an output word after the last expected one";
      }
      dut->clk = 1;
      dut->eval();
    }
  }
  dut->final();

  std::ofstream(paths["output"], std::ios::binary)
      .write(reinterpret_cast<const char*>(out_bytes.data()), static_cast<std::streamsize>(out_bytes.size()));
  double per_frame = 0;
  const long n = static_cast<long>(frame_done.size());
  if (n >= 2) {
    const long h = std::min(n / 2, n - 2);
    per_frame = static_cast<double>(frame_done[n - 1] - frame_done[h]) / static_cast<double>(n - 1 - h);
  }
  std::ofstream r(paths["report"]);
  r << "{\n  \"status\": " << json_string(status) << ",\n  \"frames\": " << frames
    << ",\n  \"frames_done\": " << n << ",\n  \"cycles\": " << cycle << ",\n  \"cycles_per_frame\": " << per_frame
    << ",\n  \"latency\": " << (n ? frame_done[0] - first_in + 1 : -1) << ",\n  \"frame_done\": [";
  for (long i = 0; i < n; ++i) r << (i ? ", " : "") << frame_done[i];
  r << "],\n  \"fifo_max\": {";
  for (std::size_t i = 0; i < d.fifos.size(); ++i)
    r << (i ? ", " : "") << json_string(d.fifos[i].name) << ": " << d.fifos[i].max;
  r << "},\n  \"stream_words\": {";
  for (std::size_t i = 0; i < d.streams.size(); ++i)
    r << (i ? ", " : "") << json_string(d.streams[i].name) << ": " << d.streams[i].words;
  r << "},\n  \"diagnosis\": " << json_string(diagnosis) << "\n}\n";
  if (status != "ok") std::fprintf(stderr, "stitched_sim: %s\n", diagnosis.c_str());
  return status == "ok" ? 0 : 3;
}
