// FileStorage on this machine's disk: durable appends/s and fsyncs/s with 1, 16 and 256
// writers each keeping one 100-byte txn in flight (group commit batches what they have
// outstanding); a 1,000,000-znode data tree's snapshot written and loaded (read, seal checked,
// restored); recovery of a directory holding that snapshot and 100,000 log records. One JSON
// object per case. Everything lives in a fresh directory under $TMPDIR (or /tmp), removed after.
//
//   storage_bench [--seconds S] [--znodes N] [--records R]
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <string>
#include <vector>

#include "quorum/storage/file_storage.hpp"
#include "quorum/tree/data_tree.hpp"
#include "quorum/tree/record_codec.hpp"
#include "tree_txns.hpp"

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

namespace {

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

quorum::storage::FileStorageOptions options_for(const fs::path& dir) {
  quorum::storage::FileStorageOptions o;
  o.data_dir = dir.string();
  return o;
}

std::unique_ptr<quorum::storage::FileStorage> open_storage(quorum::storage::FileSystem& files,
                                                           const fs::path& dir) {
  auto s = std::make_unique<quorum::storage::FileStorage>(files, options_for(dir));
  std::string error;
  std::vector<std::string> reports;
  if (s->open(error, reports)) throw std::runtime_error(error);
  return s;
}

// `writers` clients, each with one txn in flight: a new txn as soon as its previous is durable.
void append_case(const fs::path& dir, std::size_t writers, double seconds) {
  fs::remove_all(dir);
  quorum::storage::PosixFileSystem files;
  auto storage = open_storage(files, dir);
  std::mutex m;
  std::condition_variable durable_changed;
  std::uint64_t syncs = 0;
  storage->set_durability_listener([&] {
    std::lock_guard lock(m);
    ++syncs;
    durable_changed.notify_all();
  });
  const std::string payload(100, 'x');
  std::uint32_t next = 1;
  std::vector<quorum::Txn> batch;
  const auto append = [&](std::size_t n) {
    batch.clear();
    for (std::size_t i = 0; i < n; ++i)
      batch.push_back({quorum::Zxid::make(1, next++), 5, payload});
    storage->append(batch);
  };
  const auto t0 = Clock::now();
  append(writers);
  std::uint64_t done = 0;
  std::int64_t seen = 0;
  while (seconds_since(t0) < seconds) {
    std::unique_lock lock(m);
    durable_changed.wait_for(lock, std::chrono::milliseconds(100),
                             [&] { return storage->durable_zxid().value > seen; });
    const std::int64_t now = storage->durable_zxid().value;
    if (now <= seen) continue;
    lock.unlock();
    // Each writer whose txn became durable issues its next one.
    const auto finished = static_cast<std::size_t>(quorum::Zxid{now}.counter() -
                                                   quorum::Zxid{seen > 0 ? seen : 0}.counter());
    done += finished;
    seen = now;
    append(finished);
  }
  const double elapsed = seconds_since(t0);
  storage->flush();
  std::uint64_t total_syncs;
  {
    std::lock_guard lock(m);
    total_syncs = syncs;
  }
  if (!storage->failure().empty()) throw std::runtime_error(storage->failure());
  std::cout << nlohmann::json{{"bench", "storage_append"},
                              {"writers", writers},
                              {"value_bytes", payload.size()},
                              {"durable_txns", done},
                              {"durable_txns_per_s", static_cast<double>(done) / elapsed},
                              {"fsyncs_per_s", static_cast<double>(total_syncs) / elapsed},
                              {"txns_per_fsync", total_syncs ? static_cast<double>(done) /
                                                                   static_cast<double>(total_syncs)
                                                             : 0.0}}
                   .dump()
            << std::endl;
  storage.reset();
  fs::remove_all(dir);
}

using bench::create_txn;

void snapshot_and_recovery_case(const fs::path& dir, std::size_t znodes, std::uint32_t records) {
  fs::remove_all(dir);
  quorum::tree::DataTree tree;
  std::uint32_t counter = 0;
  const std::string data(16, 'd');
  tree.apply(create_txn(++counter, "/bench", "", 1));
  for (std::size_t i = 0; i < znodes; ++i) {
    const std::string parent = "/bench/d" + std::to_string(i / 1000);
    if (i % 1000 == 0)
      tree.apply(create_txn(++counter, parent, "", static_cast<std::int32_t>(i / 1000 + 1)));
    tree.apply(create_txn(++counter, parent + "/n" + std::to_string(i % 1000), data,
                          static_cast<std::int32_t>(i % 1000 + 1)));
  }
  // A background snapshot's only pause on the member's thread: copying the tree.
  const auto tc = Clock::now();
  const quorum::tree::DataTree copied = tree;
  const double copy_s = seconds_since(tc);
  const auto ts = Clock::now();
  const quorum::Snapshot serialized = copied.snapshot();
  const double serialize_s = seconds_since(ts);
  quorum::storage::PosixFileSystem files;
  double write_s = 0;
  double stream_s = 0;
  std::size_t image_bytes = serialized.state.size();
  {
    auto storage = open_storage(files, dir);
    storage->set_accepted_epoch(1);
    storage->set_current_epoch(1);
    const auto t0 = Clock::now();
    quorum::Snapshot image = tree.snapshot();
    storage->install_snapshot(std::move(image));  // as a member installing a SNAP does
    write_s = seconds_since(t0);
    // A background snapshot as members take them: the copy streamed to its file in pieces.
    const auto t_stream = Clock::now();
    const auto streamed = storage->stream_snapshot_file(
        copied.last_applied_zxid(), [&](const auto& sink) { copied.write_snapshot(sink); }, true);
    stream_s = seconds_since(t_stream);
    if (!streamed) throw std::runtime_error(storage->failure());
    // The log after the snapshot: `records` setData txns.
    std::vector<quorum::Txn> batch;
    const std::string value(100, 'v');
    for (std::uint32_t i = 0; i < records; ++i) {
      quorum::tree::TxnRecord record{
          0, 0, 1'700'000'000'000,
          quorum::tree::SetDataTxn{"/bench/d0/n" + std::to_string(i % 1000), value,
                                   static_cast<std::int32_t>(i / 1000 + 1)}};
      batch.push_back(
          {quorum::Zxid::make(1, ++counter), 5, quorum::tree::encoding::encode(record)});
      if (batch.size() == 1000) {
        storage->append(batch);
        batch.clear();
      }
    }
    storage->append(batch);
    storage->flush();
    if (!storage->failure().empty()) throw std::runtime_error(storage->failure());
  }
  // Load: open the directory (newest snapshot read and its seal checked), restore the tree.
  const auto t1 = Clock::now();
  auto storage = open_storage(files, dir);
  const double open_s = seconds_since(t1);
  const auto t2 = Clock::now();
  quorum::tree::DataTree loaded;
  const std::error_code ec = loaded.restore(*storage->latest_snapshot());
  const double restore_s = seconds_since(t2);
  // Recovery: replay the log after the snapshot.
  const auto t3 = Clock::now();
  std::vector<quorum::Txn> txns;
  quorum::Zxid at = storage->latest_snapshot()->last_zxid;
  std::size_t replayed = 0;
  for (;;) {
    txns.clear();
    if (storage->read_after(at, 4096, txns) || txns.empty()) break;
    for (const quorum::Txn& t : txns) loaded.apply(t);
    replayed += txns.size();
    at = txns.back().zxid;
  }
  const double replay_s = seconds_since(t3);
  std::cout << nlohmann::json{{"bench", "storage_snapshot"},
                              {"znodes", znodes},
                              {"snapshot_bytes", image_bytes},
                              {"background_copy_s", copy_s},
                              {"background_serialize_s", serialize_s},
                              {"snapshot_write_s", write_s},
                              {"background_stream_s", stream_s},
                              {"snapshot_load_s", open_s + restore_s},
                              {"load_open_s", open_s},
                              {"load_restore_s", restore_s},
                              {"restore_ok", !ec},
                              {"log_records", records},
                              {"replayed", replayed},
                              {"recovery_s", open_s + restore_s + replay_s}}
                   .dump()
            << std::endl;
  storage.reset();
  fs::remove_all(dir);
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 2.0;
  std::size_t znodes = 1'000'000;
  std::uint32_t records = 100'000;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--seconds") && i + 1 < argc) {
      seconds = std::atof(argv[++i]);
    } else if (!std::strcmp(argv[i], "--znodes") && i + 1 < argc) {
      znodes = std::strtoull(argv[++i], nullptr, 10);
    } else if (!std::strcmp(argv[i], "--records") && i + 1 < argc) {
      records = static_cast<std::uint32_t>(std::strtoul(argv[++i], nullptr, 10));
    } else {
      std::cerr << "usage: storage_bench [--seconds S] [--znodes N] [--records R]\n";
      return 2;
    }
  }
  const char* tmp = std::getenv("TMPDIR");
  const fs::path root =
      fs::path(tmp ? tmp : "/tmp") / ("quorum-storage-bench-" + std::to_string(::getpid()));
  try {
    for (std::size_t writers : {std::size_t{1}, std::size_t{16}, std::size_t{256}})
      append_case(root / "append", writers, seconds);
    snapshot_and_recovery_case(root / "snapshot", znodes, records);
  } catch (const std::exception& e) {
    std::cerr << "storage_bench: " << e.what() << "\n";
    fs::remove_all(root);
    return 1;
  }
  fs::remove_all(root);
  return 0;
}
