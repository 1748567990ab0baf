// Writes a data directory with FileStorage over the real file system, for the process-level
// tests of quorum-logdump: several segments, two snapshots, both epochs. With --damage, one
// byte in the middle of the oldest segment is flipped afterwards.
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "quorum/storage/file_storage.hpp"
#include "quorum/storage/log_format.hpp"

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3 || (argc == 3 && std::strcmp(argv[2], "--damage") != 0)) {
    std::cerr << "usage: storage_fixture DIR [--damage]\n";
    return 2;
  }
  const std::string dir = argv[1];
  std::filesystem::remove_all(dir);
  quorum::storage::PosixFileSystem fs;
  {
    quorum::storage::FileStorageOptions options;
    options.data_dir = dir;
    options.log.roll_bytes = 16 * 1024;
    quorum::storage::FileStorage storage(fs, options);
    std::string error;
    std::vector<std::string> reports;
    if (storage.open(error, reports)) {
      std::cerr << error << "\n";
      return 1;
    }
    storage.set_accepted_epoch(1);
    storage.set_current_epoch(1);
    for (std::uint32_t i = 1; i <= 1000; i += 10) {
      std::vector<quorum::Txn> batch;
      for (std::uint32_t j = i; j < i + 10; ++j)
        batch.push_back({quorum::Zxid::make(1, j), 5, std::string(100, 'x')});
      storage.append(batch);
      storage.flush();  // one group commit per batch, so the log spans several segments
      if (i == 501) storage.save_snapshot({quorum::Zxid::make(1, 500), "state at 500"});
    }
    storage.flush();
    storage.save_snapshot({quorum::Zxid::make(1, 1000), "state at 1000"});
    if (!storage.failure().empty()) {
      std::cerr << storage.failure() << "\n";
      return 1;
    }
  }
  if (argc == 3) {
    const std::string segment =
        dir + "/version-2/" + quorum::storage::segment_name(quorum::Zxid::make(1, 1));
    std::fstream f(segment, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(4000);
    char c = 0;
    f.read(&c, 1);
    c = static_cast<char>(c ^ 0x20);
    f.seekp(4000);
    f.write(&c, 1);
  }
  return 0;
}
