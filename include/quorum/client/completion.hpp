// Asio-style completion for asynchronous operations: the last argument says how the caller
// hears the result — a callable `void(std::error_code, T)` (or `void(std::error_code)` when
// there is no value), or `quorum::use_future` for a std::future<T> whose get() throws
// std::system_error on failure.
#pragma once

#include <functional>
#include <future>
#include <memory>
#include <system_error>
#include <type_traits>
#include <utility>

namespace quorum {

struct use_future_t {};
inline constexpr use_future_t use_future{};

namespace detail {

template <class T>
struct result_handler {
  using type = std::function<void(std::error_code, T)>;
};
template <>
struct result_handler<void> {
  using type = std::function<void(std::error_code)>;
};

/// Turns a completion token into the handler the operation calls and what the call returns.
template <class T, class Token>
struct Completion {
  using Handler = typename result_handler<T>::type;
  explicit Completion(Token&& token) : handler(std::forward<Token>(token)) {}
  Handler handler;
  void result() {}
};

template <class T>
struct Completion<T, use_future_t> {
  using Handler = typename result_handler<T>::type;
  explicit Completion(use_future_t) {
    auto promise = std::make_shared<std::promise<T>>();
    future = promise->get_future();
    if constexpr (std::is_void_v<T>) {
      handler = [promise](std::error_code ec) {
        if (ec)
          promise->set_exception(std::make_exception_ptr(std::system_error(ec)));
        else
          promise->set_value();
      };
    } else {
      handler = [promise](std::error_code ec, T value) {
        if (ec)
          promise->set_exception(std::make_exception_ptr(std::system_error(ec)));
        else
          promise->set_value(std::move(value));
      };
    }
  }
  Handler handler;
  std::future<T> future;
  std::future<T> result() { return std::move(future); }
};

template <class T>
struct Completion<T, const use_future_t&> : Completion<T, use_future_t> {
  using Completion<T, use_future_t>::Completion;
};
template <class T>
struct Completion<T, use_future_t&> : Completion<T, use_future_t> {
  using Completion<T, use_future_t>::Completion;
};

}  // namespace detail
}  // namespace quorum
