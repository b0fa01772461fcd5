#include "cluster/redis_connection.h"

#include <sys/time.h>

namespace mgw::cluster {
namespace {

timeval toTimeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

void argvOf(const std::vector<std::string>& args, std::vector<const char*>* argv,
            std::vector<size_t>* lens) {
  argv->clear();
  lens->clear();
  for (const auto& a : args) {
    argv->push_back(a.data());
    lens->push_back(a.size());
  }
}

}  // namespace

bool isError(const redisReply* r) { return r == nullptr || r->type == REDIS_REPLY_ERROR; }

std::string replyText(const redisReply* r) {
  if (r == nullptr) return "";
  if (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS ||
      r->type == REDIS_REPLY_ERROR)
    return std::string(r->str, r->len);
  return "";
}

std::unique_ptr<RedisConnection> RedisConnection::open(const RedisUrl& url,
                                                       const std::string& password,
                                                       std::chrono::milliseconds timeout,
                                                       std::string* error) {
  redisContext* c = redisConnectWithTimeout(url.host.c_str(), url.port, toTimeval(timeout));
  if (c == nullptr) {
    *error = "cannot allocate a Redis connection";
    return nullptr;
  }
  std::unique_ptr<RedisConnection> conn(new RedisConnection(c));
  if (c->err) {
    *error =
        std::string("connect to ") + url.host + ":" + std::to_string(url.port) + ": " + c->errstr;
    return nullptr;
  }
  conn->setTimeout(timeout);
  if (!password.empty()) {
    Reply r = conn->command({"AUTH", password});
    if (isError(r.get())) {
      *error = r ? "AUTH refused: " + replyText(r.get()) : "AUTH: " + conn->error();
      return nullptr;
    }
  }
  if (url.database != 0) {
    Reply r = conn->command({"SELECT", std::to_string(url.database)});
    if (isError(r.get())) {
      *error = r ? "SELECT " + std::to_string(url.database) + ": " + replyText(r.get())
                 : "SELECT: " + conn->error();
      return nullptr;
    }
  }
  return conn;
}

RedisConnection::~RedisConnection() {
  if (c_) redisFree(c_);
}

void RedisConnection::setTimeout(std::chrono::milliseconds timeout) {
  redisSetTimeout(c_, toTimeval(timeout));
}

std::string RedisConnection::error() const {
  return c_->err ? std::string(c_->errstr) : std::string("no error");
}

Reply RedisConnection::command(const std::vector<std::string>& args) {
  if (broken_) return nullptr;
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  argvOf(args, &argv, &lens);
  Reply r(static_cast<redisReply*>(
      redisCommandArgv(c_, static_cast<int>(argv.size()), argv.data(), lens.data())));
  if (!r) broken_ = true;
  return r;
}

bool RedisConnection::pipeline(const std::vector<std::vector<std::string>>& commands,
                               std::vector<Reply>* replies) {
  replies->clear();
  if (broken_) return false;
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (const auto& args : commands) {
    argvOf(args, &argv, &lens);
    if (redisAppendCommandArgv(c_, static_cast<int>(argv.size()), argv.data(), lens.data()) !=
        REDIS_OK) {
      broken_ = true;
      return false;
    }
  }
  for (std::size_t i = 0; i < commands.size(); ++i) {
    void* raw = nullptr;
    if (redisGetReply(c_, &raw) != REDIS_OK || raw == nullptr) {
      broken_ = true;
      return false;
    }
    replies->emplace_back(static_cast<redisReply*>(raw));
  }
  return true;
}

}  // namespace mgw::cluster
