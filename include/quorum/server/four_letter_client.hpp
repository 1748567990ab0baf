// Asks a server a four-letter word as nc or ZooKeeper's FourLetterWordMain do: send the four
// bytes, half-close, read to EOF.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "quorum/config.hpp"

namespace quorum::server {

/// The answer, or nullopt when the server cannot be reached or does not answer within
/// `timeout` (`why` then says what happened).
QUORUM_API std::optional<std::string> ask_four_letter_word(
    const std::string& host, std::uint16_t port, const std::string& word,
    std::chrono::milliseconds timeout = std::chrono::seconds(5), std::string* why = nullptr);

/// The value of srvr's `Mode:` line ("leader", "follower", "standalone"), or empty.
QUORUM_API std::string mode_of(const std::string& srvr_answer);

}  // namespace quorum::server
