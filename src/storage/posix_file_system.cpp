#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "quorum/storage/file_system.hpp"

namespace quorum::storage {

namespace {

std::error_code last_error() {
  return {errno, std::system_category()};
}

// Closes a descriptor when it goes out of scope.
class Descriptor {
 public:
  explicit Descriptor(int fd) : fd_(fd) {}
  Descriptor(const Descriptor&) = delete;
  Descriptor& operator=(const Descriptor&) = delete;
  ~Descriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const noexcept { return fd_; }

 private:
  int fd_;
};

class PosixFile final : public WritableFile {
 public:
  PosixFile(int fd, std::uint64_t size) : fd_(fd), size_(size) {}
  PosixFile(const PosixFile&) = delete;
  PosixFile& operator=(const PosixFile&) = delete;
  ~PosixFile() override { ::close(fd_); }

  std::error_code write_at(std::uint64_t offset, std::string_view bytes) override {
    while (!bytes.empty()) {
      const ssize_t n = ::pwrite(fd_, bytes.data(), bytes.size(), static_cast<off_t>(offset));
      if (n < 0) {
        if (errno == EINTR) continue;
        return last_error();
      }
      offset += static_cast<std::uint64_t>(n);
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    if (offset > size_) size_ = offset;
    return {};
  }
  std::error_code sync() override {
    while (::fdatasync(fd_) != 0) {
      if (errno != EINTR) return last_error();
    }
    return {};
  }
  std::error_code truncate(std::uint64_t size) override {
    if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) return last_error();
    size_ = size;
    return {};
  }
  std::uint64_t size() const override { return size_; }

 private:
  int fd_;
  std::uint64_t size_;
};

}  // namespace

std::error_code PosixFileSystem::create_directories(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  return ec;
}

std::error_code PosixFileSystem::list(const std::string& dir, std::vector<std::string>& names) {
  names.clear();
  DIR* d = ::opendir(dir.c_str());
  if (!d) return last_error();
  while (const dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    struct stat st {};
    if (::stat((dir + "/" + name).c_str(), &st) == 0 && S_ISREG(st.st_mode)) names.push_back(name);
  }
  ::closedir(d);
  return {};
}

bool PosixFileSystem::exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

std::error_code PosixFileSystem::open(const std::string& path, bool create,
                                      std::unique_ptr<WritableFile>& out) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0), 0644);
  if (fd < 0) return last_error();
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const auto ec = last_error();
    ::close(fd);
    return ec;
  }
  out = std::make_unique<PosixFile>(fd, static_cast<std::uint64_t>(st.st_size));
  return {};
}

std::error_code PosixFileSystem::read(const std::string& path, std::uint64_t offset,
                                      std::size_t length, std::string& out) {
  out.clear();
  Descriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return last_error();
  out.resize(length);
  std::size_t got = 0;
  while (got < length) {
    const ssize_t n =
        ::pread(fd.get(), out.data() + got, length - got, static_cast<off_t>(offset + got));
    if (n < 0) {
      if (errno == EINTR) continue;
      return last_error();
    }
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  out.resize(got);
  return {};
}

std::error_code PosixFileSystem::file_size(const std::string& path, std::uint64_t& size) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return last_error();
  size = static_cast<std::uint64_t>(st.st_size);
  return {};
}

std::error_code PosixFileSystem::rename(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) return last_error();
  return {};
}

std::error_code PosixFileSystem::remove(const std::string& path) {
  if (::unlink(path.c_str()) != 0) return last_error();
  return {};
}

std::error_code PosixFileSystem::sync_directory(const std::string& dir) {
  Descriptor fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return last_error();
  if (::fsync(fd.get()) != 0) return last_error();
  return {};
}

}  // namespace quorum::storage
