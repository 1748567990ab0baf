// A C++ service that is itself a member of a quorum ensemble over TCP: it reads the same
// zoo.cfg + myid as quorumd, builds Node<AsioTcpTransport, FileStorage>, and uses Sessions
// exactly as in process. Its "service" is a line protocol on stdin, one command per line:
//
//   create PATH DATA | set PATH DATA | get PATH | sync PATH | mode | zxid | quit
//
// answered with one line each: "ok ...", "data DATA version N", "mode leader|follower|looking",
// "zxid 0x..." (the last zxid this session has seen) or "error MESSAGE". It prints "serving" once
// the ensemble has a leader. With a clientPort in zoo.cfg it also serves ZooKeeper's client
// protocol there (open_client_port), as quorumd does.
//
//   tcp_service --config zoo.cfg
#include <fmt/format.h>

#include <chrono>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>

#include "quorum/config/zoo_cfg.hpp"
#include "quorum/node.hpp"
#include "quorum/server/node_client_port.hpp"
#include "quorum/storage/file_storage.hpp"
#include "quorum/transport/tcp.hpp"

using namespace std::chrono_literals;

int main(int argc, char** argv) {
  if (argc != 3 || std::string(argv[1]) != "--config") {
    std::cerr << "usage: tcp_service --config zoo.cfg\n";
    return 2;
  }
  try {
    // 1. The configuration quorumd reads.
    const auto config = quorum::config::load_zoo_cfg(argv[2]);
    const quorum::ServerId self = quorum::config::read_myid(config.data_dir);
    quorum::config::check_member(config, self);

    // 2. Durable storage in dataDir (and dataLogDir).
    quorum::storage::PosixFileSystem files;
    quorum::storage::FileStorageOptions options;
    options.data_dir = config.data_dir.string();
    options.data_log_dir = config.data_log_dir.string();
    quorum::storage::FileStorage storage(files, options);
    std::string error;
    std::vector<std::string> reports;
    if (storage.open(error, reports)) throw std::runtime_error(error);

    // 3. The network and the member.
    quorum::TcpOptions tcp = quorum::TcpOptions::from(config, self);
    tcp.log = [](quorum::LogLevel level, const std::string& line) {
      if (level >= quorum::LogLevel::warn) std::cerr << "tcp_service: " << line << "\n";
    };
    quorum::TcpNetwork network(std::move(tcp));
    quorum::Node<quorum::AsioTcpTransport, quorum::storage::FileStorage> node(
        network, quorum::config::node_config(config, self), storage);
    node.start();
    // ZooKeeper's clients too (zkCli.sh, kazoo, Curator...), when zoo.cfg has a clientPort:
    // the same protocol and four-letter words as quorumd, from this process.
    std::unique_ptr<quorum::server::ClientPort> clients =
        quorum::server::open_client_port(node, config, self);
    if (!node.wait_until([](const auto& s) { return s.serving; }, 60s))
      throw std::runtime_error("no leader within 60 s");
    std::cout << "serving" << std::endl;

    // 4. Sessions, as in process.
    quorum::Session session = node.open_session();
    std::string line;
    while (std::getline(std::cin, line)) {
      std::istringstream in(line);
      std::string command, path, data;
      in >> command >> path >> data;
      try {
        if (command == "create") {
          const auto created = session.create(path, data);
          std::cout << "ok " << created.path << std::endl;
        } else if (command == "set") {
          const auto stat = session.set_data(path, data);
          std::cout << "ok version " << stat.version << std::endl;
        } else if (command == "get") {
          const auto r = session.get_data(path);
          std::cout << "data " << r.data << " version " << r.stat.version << std::endl;
        } else if (command == "sync") {
          session.sync(path);
          std::cout << "ok synced" << std::endl;
        } else if (command == "mode") {
          const auto s = node.status();
          std::cout << "mode "
                    << (!s.serving                              ? "looking"
                        : s.state == quorum::PeerState::leading ? "leader"
                                                                : "follower")
                    << std::endl;
        } else if (command == "zxid") {
          std::cout << fmt::format("zxid {:#x}", session.last_zxid_seen().value) << std::endl;
        } else if (command == "quit") {
          break;
        } else {
          std::cout << "error unknown command '" << command << "'" << std::endl;
        }
      } catch (const std::system_error& e) {
        std::cout << "error " << e.code().message() << std::endl;
        // A session lost with its member's leader is replaced; the caller retries.
        if (!session.valid() || e.code() == make_error_code(quorum::errc::session_expired))
          session = node.open_session();
      }
    }
    session.close();
    clients.reset();  // before the node it serves
    node.stop();
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "tcp_service: " << e.what() << "\n";
    return 1;
  }
}
