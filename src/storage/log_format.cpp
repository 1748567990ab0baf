#include "quorum/storage/log_format.hpp"

#include <xxhash.h>

#include <charconv>
#include <new>

namespace quorum::storage {

namespace {

void put_u32(std::string& out, std::uint32_t v) {
  const char bytes[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                         static_cast<char>(v >> 8), static_cast<char>(v)};
  out.append(bytes, 4);
}
void put_u64(std::string& out, std::uint64_t v) {
  put_u32(out, static_cast<std::uint32_t>(v >> 32));
  put_u32(out, static_cast<std::uint32_t>(v));
}
std::uint32_t get_u32(std::string_view in, std::size_t at) {
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<std::uint8_t>(in[at + i]);
  return v;
}
std::uint64_t get_u64(std::string_view in, std::size_t at) {
  return (std::uint64_t{get_u32(in, at)} << 32) | get_u32(in, at + 4);
}

bool all_zero(std::string_view bytes) {
  return bytes.find_first_not_of('\0') == std::string_view::npos;
}

// One record at `at`: its txn and the offset after it, or why it is not a record.
struct Parsed {
  bool ok = false;
  bool zero_length = false;
  Txn txn;
  std::uint64_t next = 0;
  std::string problem;
};

Parsed parse_record(std::string_view bytes, std::size_t at, bool keep_data) {
  Parsed p;
  if (bytes.size() - at < 4) {
    p.problem = "a partial record length";
    return p;
  }
  const std::uint32_t length = get_u32(bytes, at);
  if (length == 0) {
    p.zero_length = true;
    return p;
  }
  if (length < 12 || length > max_log_record) {
    p.problem = "a record length of " + std::to_string(length);
    return p;
  }
  if (bytes.size() - at - 4 < 8 + std::size_t{length}) {
    p.problem = "a record of " + std::to_string(length) + " bytes cut off by the end of the file";
    return p;
  }
  const std::string_view body = bytes.substr(at + 12, length);
  if (checksum(body, length) != get_u64(bytes, at + 4)) {
    p.problem = "a record whose checksum does not match";
    return p;
  }
  p.ok = true;
  p.txn.zxid = Zxid{static_cast<std::int64_t>(get_u64(body, 0))};
  p.txn.type = static_cast<std::int32_t>(get_u32(body, 8));
  if (keep_data) p.txn.data = SharedBytes(body.substr(12));
  p.next = at + 12 + length;
  return p;
}

}  // namespace

std::size_t read_records(std::string_view bytes, Zxid after, std::size_t& max,
                         std::vector<Txn>& out) {
  std::size_t at = 0;
  while (max > 0 && at < bytes.size()) {
    Parsed p = parse_record(bytes, at, true);
    if (!p.ok) break;
    if (p.txn.zxid > after) {
      out.push_back(std::move(p.txn));
      --max;
    }
    at = p.next;
  }
  return at;
}

std::uint64_t checksum(std::string_view bytes, std::uint64_t seed) noexcept {
  return XXH3_64bits_withSeed(bytes.data(), bytes.size(), seed);
}

// XXH3_state_t is opaque without XXH_STATIC_LINKING_ONLY: xxHash allocates it.
struct StreamingChecksum::State {
  State() : xxh(XXH3_createState()) {
    if (xxh == nullptr) throw std::bad_alloc();
  }
  ~State() { XXH3_freeState(xxh); }
  State(const State&) = delete;
  State& operator=(const State&) = delete;
  XXH3_state_t* xxh;
};

StreamingChecksum::StreamingChecksum(std::uint64_t seed) : state_(std::make_unique<State>()) {
  XXH3_64bits_reset_withSeed(state_->xxh, seed);
}
StreamingChecksum::~StreamingChecksum() = default;

void StreamingChecksum::update(std::string_view bytes) noexcept {
  XXH3_64bits_update(state_->xxh, bytes.data(), bytes.size());
}

std::uint64_t StreamingChecksum::digest() const noexcept {
  return XXH3_64bits_digest(state_->xxh);
}

std::string segment_name(Zxid first) {
  return "log." + to_string(first).substr(2);
}

namespace {
std::optional<Zxid> parse_hex_name(std::string_view name, std::string_view prefix) {
  if (name.substr(0, prefix.size()) != prefix) return std::nullopt;
  const std::string_view digits = name.substr(prefix.size());
  if (digits.empty() || digits.size() > 16) return std::nullopt;
  for (char c : digits)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return std::nullopt;  // ours only
  std::uint64_t raw = 0;
  std::from_chars(digits.data(), digits.data() + digits.size(), raw, 16);
  return Zxid{static_cast<std::int64_t>(raw)};
}
}  // namespace

std::optional<Zxid> parse_segment_name(std::string_view name) {
  return parse_hex_name(name, "log.");
}

std::string encode_segment_header(Zxid first, Zxid previous) {
  std::string out;
  put_u32(out, log_magic);
  put_u32(out, log_format_version);
  put_u64(out, static_cast<std::uint64_t>(first.value));
  put_u64(out, static_cast<std::uint64_t>(previous.value));
  put_u64(out, checksum(std::string_view(out).substr(8, 16)));
  return out;
}

void append_record(std::string& out, const Txn& txn) {
  const auto length = static_cast<std::uint32_t>(12 + txn.data.size());
  const std::size_t start = out.size();
  put_u32(out, length);
  put_u64(out, 0);  // the checksum, filled in below
  put_u64(out, static_cast<std::uint64_t>(txn.zxid.value));
  put_u32(out, static_cast<std::uint32_t>(txn.type));
  out.append(txn.data.str());
  const std::uint64_t sum = checksum(std::string_view(out).substr(start + 12, length), length);
  std::string sum_bytes;
  put_u64(sum_bytes, sum);
  out.replace(start + 4, 8, sum_bytes);
}

SegmentScan scan_segment(std::string_view bytes, bool keep_txns) {
  SegmentScan s;
  if (bytes.size() < log_header_size || all_zero(bytes.substr(0, log_header_size))) {
    // Created but its header never reached the disk: only a crash does that.
    s.end = all_zero(bytes) ? SegmentScan::End::torn : SegmentScan::End::corrupt;
    s.valid_end = 0;
    s.problem = bytes.size() < log_header_size ? "a partial segment header" : "no segment header";
    return s;
  }
  if (get_u32(bytes, 0) != log_magic || get_u32(bytes, 4) != log_format_version) {
    s.end = SegmentScan::End::corrupt;
    s.valid_end = 0;
    s.problem = "not a quorum log segment (bad magic or version)";
    return s;
  }
  if (get_u64(bytes, 24) != checksum(bytes.substr(8, 16))) {
    s.end = SegmentScan::End::corrupt;
    s.valid_end = 0;
    s.problem = "a damaged segment header (checksum mismatch)";
    return s;
  }
  s.first = Zxid{static_cast<std::int64_t>(get_u64(bytes, 8))};
  s.previous = Zxid{static_cast<std::int64_t>(get_u64(bytes, 16))};
  if (!follows(s.previous, s.first)) {
    s.end = SegmentScan::End::corrupt;
    s.valid_end = 0;
    s.problem = "its header's first zxid " + to_string(s.first) + " does not follow its previous " +
                to_string(s.previous);
    return s;
  }
  std::size_t at = log_header_size;
  while (at < bytes.size()) {
    Parsed p = parse_record(bytes, at, keep_txns);
    // Preallocated space, however short (a torn write that kept only zeros wrote nothing).
    if ((p.zero_length || !p.ok) && all_zero(bytes.substr(at))) break;
    if (p.ok) {
      const bool in_order = s.records == 0 ? p.txn.zxid == s.first : follows(s.last, p.txn.zxid);
      if (!in_order) {
        s.end = SegmentScan::End::corrupt;
        s.problem_offset = at;
        s.problem = "zxid " + to_string(p.txn.zxid) + " does not follow " +
                    (s.records == 0 ? "the header's " + to_string(s.first) : to_string(s.last));
        return s;
      }
      if (s.records % mark_every == 0) s.marks.push_back({p.txn.zxid, at});
      s.last = p.txn.zxid;
      ++s.records;
      s.valid_end = p.next;
      if (keep_txns) s.txns.push_back(std::move(p.txn));
      at = p.next;
      continue;
    }
    // Damage. It is a torn tail unless a valid later record shows the log went on after it.
    s.problem_offset = at;
    s.problem = p.zero_length ? "a zero record length followed by data" : p.problem;
    s.end = SegmentScan::End::torn;
    for (std::size_t probe = at + 1; probe + 24 <= bytes.size(); ++probe) {
      if (bytes[probe] == 0 && get_u32(bytes, probe) == 0) continue;
      Parsed later = parse_record(bytes, probe, false);
      if (later.ok && later.txn.zxid > s.last) {
        s.end = SegmentScan::End::corrupt;
        s.problem += ", followed by a valid record at offset " + std::to_string(probe);
        break;
      }
    }
    return s;
  }
  return s;
}

}  // namespace quorum::storage

namespace quorum::storage {

std::string snapshot_name(Zxid zxid) {
  return "snapshot." + to_string(zxid).substr(2);
}

std::optional<Zxid> parse_snapshot_name(std::string_view name) {
  return parse_hex_name(name, "snapshot.");
}

std::string encode_snapshot_header(Zxid zxid, std::uint64_t state_size,
                                   std::uint64_t state_checksum) {
  std::string out;
  out.reserve(snapshot_header_size);
  put_u32(out, snapshot_magic);
  put_u32(out, snapshot_format_version);
  put_u64(out, static_cast<std::uint64_t>(zxid.value));
  put_u64(out, state_size);
  put_u64(out, state_checksum);
  return out;
}

std::string encode_snapshot_file(const Snapshot& snapshot) {
  const std::uint64_t sum =
      checksum(snapshot.state, static_cast<std::uint64_t>(snapshot.last_zxid.value));
  return encode_snapshot_header(snapshot.last_zxid, snapshot.state.size(), sum) +
         snapshot.state.str();
}

namespace {
// Whether `bytes` is a whole, sealed snapshot file; `problem` says why not.
bool snapshot_file_ok(std::string_view bytes, std::string& problem) {
  if (bytes.size() < snapshot_header_size) {
    problem = "shorter than a snapshot header (" + std::to_string(bytes.size()) + " bytes)";
    return false;
  }
  if (get_u32(bytes, 0) != snapshot_magic || get_u32(bytes, 4) != snapshot_format_version) {
    problem = "not a quorum snapshot (bad magic or version)";
    return false;
  }
  const std::uint64_t length = get_u64(bytes, 16);
  if (length != bytes.size() - snapshot_header_size) {
    problem = "the header says " + std::to_string(length) + " bytes of state, the file has " +
              std::to_string(bytes.size() - snapshot_header_size);
    return false;
  }
  if (checksum(bytes.substr(snapshot_header_size), get_u64(bytes, 8)) != get_u64(bytes, 24)) {
    problem = "the state's checksum does not match";
    return false;
  }
  return true;
}
}  // namespace

std::optional<Snapshot> decode_snapshot_file(std::string_view bytes, std::string& problem) {
  if (!snapshot_file_ok(bytes, problem)) return std::nullopt;
  return Snapshot{Zxid{static_cast<std::int64_t>(get_u64(bytes, 8))},
                  std::string(bytes.substr(snapshot_header_size))};
}

std::optional<Snapshot> decode_snapshot_file(std::string&& bytes, std::string& problem) {
  if (!snapshot_file_ok(bytes, problem)) return std::nullopt;
  const Zxid zxid{static_cast<std::int64_t>(get_u64(bytes, 8))};
  bytes.erase(0, snapshot_header_size);  // the image stays in the file's buffer
  return Snapshot{zxid, std::move(bytes)};
}

}  // namespace quorum::storage
