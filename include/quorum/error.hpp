// Operating errors as std::error_code values in the `quorum` category, numbered as ZooKeeper's
// KeeperException.Code, so a ZooKeeper user reads them without a table.
#pragma once

#include <string>
#include <system_error>

#include "quorum/config.hpp"

namespace quorum {

/// ZooKeeper's error codes (KeeperException.Code). -1..-99 are system errors, <= -100 API errors.
enum class errc : int {
  ok = 0,
  system_error = -1,
  runtime_inconsistency = -2,
  data_inconsistency = -3,
  connection_loss = -4,
  marshalling_error = -5,
  unimplemented = -6,
  operation_timeout = -7,
  bad_arguments = -8,
  unknown_session = -12,
  new_config_no_quorum = -13,
  reconfig_in_progress = -14,
  api_error = -100,
  no_node = -101,
  no_auth = -102,
  bad_version = -103,
  no_children_for_ephemerals = -108,
  node_exists = -110,
  not_empty = -111,
  session_expired = -112,
  invalid_callback = -113,
  invalid_acl = -114,
  auth_failed = -115,
  session_moved = -118,
  not_readonly = -119,
  ephemeral_on_local_session = -120,
  no_watcher = -121,
  request_timeout = -122,
  reconfig_disabled = -123,
  session_closed_requires_sasl_auth = -124,
  quota_exceeded = -125,
  throttled_op = -127,
};

namespace detail {
class error_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "quorum"; }
  std::string message(int code) const override {
    // The texts ZooKeeper's KeeperException.Code.getCodeMessage gives.
    switch (static_cast<errc>(code)) {
      case errc::ok:
        return "ok";
      case errc::system_error:
        return "SystemError";
      case errc::runtime_inconsistency:
        return "RuntimeInconsistency";
      case errc::data_inconsistency:
        return "DataInconsistency";
      case errc::connection_loss:
        return "ConnectionLoss";
      case errc::marshalling_error:
        return "MarshallingError";
      case errc::unimplemented:
        return "Unimplemented";
      case errc::operation_timeout:
        return "OperationTimeout";
      case errc::bad_arguments:
        return "BadArguments";
      case errc::unknown_session:
        return "Unknown session";
      case errc::new_config_no_quorum:
        return "NewConfigNoQuorum";
      case errc::reconfig_in_progress:
        return "ReconfigInProgress";
      case errc::api_error:
        return "APIError";
      case errc::no_node:
        return "NoNode";
      case errc::no_auth:
        return "NoAuth";
      case errc::bad_version:
        return "BadVersion";
      case errc::no_children_for_ephemerals:
        return "NoChildrenForEphemerals";
      case errc::node_exists:
        return "NodeExists";
      case errc::not_empty:
        return "Directory not empty";
      case errc::session_expired:
        return "Session expired";
      case errc::invalid_callback:
        return "Invalid callback";
      case errc::invalid_acl:
        return "InvalidACL";
      case errc::auth_failed:
        return "AuthFailed";
      case errc::session_moved:
        return "Session moved";
      case errc::not_readonly:
        return "Not a read-only call";
      case errc::ephemeral_on_local_session:
        return "Ephemeral node on local session";
      case errc::no_watcher:
        return "No such watcher";
      case errc::request_timeout:
        return "Request timeout";
      case errc::reconfig_disabled:
        return "Reconfig is disabled";
      case errc::session_closed_requires_sasl_auth:
        return "Session closed because client failed to authenticate";
      case errc::quota_exceeded:
        return "Quota has exceeded";
      case errc::throttled_op:
        return "Op throttled due to high load";
    }
    return "Unknown error " + std::to_string(code);
  }
};
}  // namespace detail

/// The `quorum` error category. Defined inline (not in the compiled library) so header-only
/// users of quorum::core have it too; the default visibility keeps it one object per process
/// even when a shared libquorum is built with hidden symbols.
QUORUM_API inline const std::error_category& error_category() noexcept {
  static const detail::error_category_impl category;
  return category;
}

inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), error_category()};
}

}  // namespace quorum

template <>
struct std::is_error_code_enum<quorum::errc> : std::true_type {};
