// qnn::Stream: the FIFO channel between HLS layer functions in C simulation.
// Layer templates are written against it; a Vitis build maps it to the tool's stream
// type. Reading an empty stream is a dataflow bug, so it aborts with the stream name.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <deque>
#include <string>
#include <utility>

namespace qnn {

template <typename T>
class Stream {
 public:
  explicit Stream(std::string name = "stream") : name_(std::move(name)) {}
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  void write(const T& v) {
    q_.push_back(v);
    if (q_.size() > max_size_) max_size_ = q_.size();
  }
  T read() {
    if (q_.empty()) {
      std::fprintf(stderr, "qnn::Stream '%s': read from an empty stream\n", name_.c_str());
      std::abort();
    }
    T v = q_.front();
    q_.pop_front();
    return v;
  }
  bool empty() const { return q_.empty(); }
  std::size_t size() const { return q_.size(); }
  // Largest occupancy seen: the depth this channel needed in this simulation.
  std::size_t max_size() const { return max_size_; }
  const std::string& name() const { return name_; }

 private:
  std::string name_;
  std::deque<T> q_;
  std::size_t max_size_ = 0;
};

}  // namespace qnn
