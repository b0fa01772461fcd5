// Which of a backend's fields the client gets (the relay's part; the framing fields are the
// writer's): hop-by-hop and Connection-listed fields out, HEAD/304 keep Content-Length, the
// gateway's own fields replace the backend's, CORS fields dropped and appended.
#include "http/relay.h"

#include <gtest/gtest.h>

namespace mgw::http {
namespace {

std::string joined(const std::vector<FieldView>& fields) {
  std::string out;
  for (const auto& f : fields) {
    out.append(f.name);
    out += "=";
    out.append(f.value);
    out += ";";
  }
  return out;
}

ResponseHead response(int status) {
  ResponseHead r;
  r.status = status;
  r.reason = "R";
  r.fields = {{"Content-Type", "text/plain"},
              {"Connection", "keep-alive, X-Private"},
              {"X-Private", "1"},
              {"Keep-Alive", "timeout=5"},
              {"Transfer-Encoding", "chunked"},
              {"Content-Length", "42"},
              {"X-Request-Id", "backend"},
              {"Access-Control-Allow-Origin", "*"}};
  return r;
}

TEST(RelayTest, FinalAnswerFields) {
  message::ForwardPlan plan;
  plan.dropResponseHeaders = {"Access-Control-Allow-Origin"};
  plan.addResponseHeaders = {{"Vary", "Origin"}};
  const std::vector<std::pair<std::string, std::string>> added = {{"X-Request-Id", "gw"}};
  std::vector<FieldView> out;
  const ResponseHead ok = response(200);
  responseFields(ok, false, added, plan, &out);
  EXPECT_EQ(joined(out), "Content-Type=text/plain;X-Request-Id=gw;Vary=Origin;");
}

TEST(RelayTest, HeadAnd304KeepTheRepresentationLength) {
  message::ForwardPlan plan;
  std::vector<FieldView> out;  // views into the response: it must outlive them
  const ResponseHead ok = response(200);
  responseFields(ok, true, {}, plan, &out);
  EXPECT_EQ(joined(out),
            "Content-Type=text/plain;Content-Length=42;X-Request-Id=backend;"
            "Access-Control-Allow-Origin=*;");
  const ResponseHead notModified = response(304);
  responseFields(notModified, false, {}, plan, &out);
  EXPECT_NE(joined(out).find("Content-Length=42;"), std::string::npos);
}

TEST(RelayTest, InterimAnswerKeepsItsOwnFields) {
  message::ForwardPlan plan;
  plan.addResponseHeaders = {{"Vary", "Origin"}};
  ResponseHead hints;
  hints.status = 103;
  hints.fields = {{"Link", "</a.css>"}, {"X-Request-Id", "b"}, {"Connection", "close"}};
  std::vector<FieldView> out;
  responseFields(hints, false, {{"X-Request-Id", "gw"}}, plan, &out);
  EXPECT_EQ(joined(out), "Link=</a.css>;X-Request-Id=b;");
}

}  // namespace
}  // namespace mgw::http
