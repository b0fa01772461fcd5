// One blocking hiredis connection (Debian 12: hiredis 0.14), used by exactly one cluster thread,
// never by an I/O thread. Every call is bounded by the socket timeout set at open, so a slow or
// silent Redis costs the owning thread at most that long. The password is sent and forgotten.
#pragma once

#include <hiredis/hiredis.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/redis_url.h"

namespace mgw::cluster {

struct ReplyDeleter {
  void operator()(redisReply* r) const {
    if (r) freeReplyObject(r);
  }
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

class RedisConnection {
 public:
  // Connects (TCP, AUTH when password is not empty, SELECT database); null with *error set (the
  // reason, never the password) on failure.
  static std::unique_ptr<RedisConnection> open(const RedisUrl& url, const std::string& password,
                                               std::chrono::milliseconds timeout,
                                               std::string* error);
  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  // One command. Null on an I/O error or timeout: the connection is then broken() and must be
  // dropped. An error reply (REDIS_REPLY_ERROR) is a reply, not a null.
  Reply command(const std::vector<std::string>& args);
  // Several commands in one round trip (pipelined); false on an I/O error (broken from then on).
  bool pipeline(const std::vector<std::vector<std::string>>& commands, std::vector<Reply>* replies);
  void setTimeout(std::chrono::milliseconds timeout);

  bool broken() const { return broken_; }
  std::string error() const;  // the last I/O error, for logs

 private:
  explicit RedisConnection(redisContext* c) : c_(c) {}
  redisContext* c_;
  bool broken_ = false;
};

// "OK"-like checks for logs and callers.
bool isError(const redisReply* r);
std::string replyText(const redisReply* r);  // string, status or error text; "" otherwise

}  // namespace mgw::cluster
