// SharedBytes: an immutable byte string whose copies share one buffer. A txn's body is made
// once (by the leader's prep, or decoded off the wire) and then travels to every follower, into
// the log and to the state machine; sharing it turns each of those copies into a reference
// count update. The count is atomic: in-process transports hand bodies between threads.
#pragma once

#include <atomic>
#include <compare>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

namespace quorum {

class SharedBytes {
 public:
  SharedBytes() noexcept = default;
  // Implicit from strings, and to const std::string& / std::string_view: a txn body is bytes.
  SharedBytes(std::string bytes) {
    if (!bytes.empty()) block_ = new Block{{1}, std::move(bytes)};
  }
  SharedBytes(std::string_view bytes) : SharedBytes(std::string(bytes)) {}
  SharedBytes(const char* bytes) : SharedBytes(std::string(bytes)) {}

  SharedBytes(const SharedBytes& other) noexcept : block_(other.block_) {
    if (block_) block_->refs.fetch_add(1, std::memory_order_relaxed);
  }
  SharedBytes(SharedBytes&& other) noexcept : block_(std::exchange(other.block_, nullptr)) {}
  SharedBytes& operator=(SharedBytes other) noexcept {
    std::swap(block_, other.block_);
    return *this;
  }
  ~SharedBytes() { release(); }

  const std::string& str() const noexcept { return block_ ? block_->bytes : empty_string(); }
  operator const std::string&() const noexcept { return str(); }
  operator std::string_view() const noexcept { return str(); }
  const char* data() const noexcept { return str().data(); }
  /// The bytes as a string of one's own: moved out when no one else shares them (no copy),
  /// copied otherwise. Leaves this empty.
  std::string take() && {
    if (!block_) return {};
    std::string out = block_->refs.load(std::memory_order_acquire) == 1 ? std::move(block_->bytes)
                                                                        : block_->bytes;
    release();
    return out;
  }
  std::size_t size() const noexcept { return block_ ? block_->bytes.size() : 0; }
  bool empty() const noexcept { return size() == 0; }

  friend bool operator==(const SharedBytes& a, const SharedBytes& b) noexcept {
    return a.block_ == b.block_ || a.str() == b.str();
  }
  friend bool operator==(const SharedBytes& a, std::string_view b) noexcept {
    return std::string_view(a.str()) == b;
  }
  friend bool operator==(const SharedBytes& a, const std::string& b) noexcept {
    return a.str() == b;
  }
  friend bool operator==(const SharedBytes& a, const char* b) noexcept {
    return std::string_view(a.str()) == b;
  }
  auto begin() const noexcept { return str().begin(); }
  auto end() const noexcept { return str().end(); }
  friend auto operator<=>(const SharedBytes& a, const SharedBytes& b) noexcept {
    return a.str() <=> b.str();
  }

 private:
  struct Block {
    std::atomic<std::size_t> refs;
    std::string bytes;
  };

  static const std::string& empty_string() noexcept {
    static const std::string empty;
    return empty;
  }
  void release() noexcept {
    if (block_ && block_->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete block_;
    block_ = nullptr;
  }

  Block* block_ = nullptr;
};

}  // namespace quorum
