// What an HTTP/2 backend is sent (issue 23 item 3): the pseudo-header fields, the client's fields
// less what the gateway owns and what HTTP/2 forbids (RFC 9113 section 8.2.2), names in lower case,
// "te: trailers" kept for gRPC.
#include "http/h2_relay.h"

#include <gtest/gtest.h>

namespace mgw::http {
namespace {

std::string joined(const std::vector<Field>& fields) {
  std::string out;
  for (const Field& f : fields) out += f.name + ": " + f.value + "\n";
  return out;
}

TEST(H2RelayTest, RequestFieldsForAnHttp2Backend) {
  RequestHead h;
  h.method = "POST";
  h.target = "/echo.v1.Echo/Unary";
  h.fields = {{"Host", "gw.example"},
              {"Content-Type", "application/grpc"},
              {"TE", "gzip, trailers"},
              {"Connection", "keep-alive, X-Hop"},
              {"Keep-Alive", "timeout=5"},
              {"X-Hop", "1"},
              {"Transfer-Encoding", "chunked"},
              {"Upgrade", "h2c"},
              {"apikey", "secret"},
              {"Grpc-Timeout", "5S"},
              {"X-Forwarded-For", "9.9.9.9"}};
  mgw::UpstreamTarget target;
  target.http2 = true;
  target.host = "127.0.0.1";
  target.port = 50051;
  target.hostHeader = "127.0.0.1:50051";
  target.origin = "h2c://127.0.0.1:50051";
  message::ForwardPlan plan;
  plan.rawPath = "/Unary";
  plan.rawQuery = "";
  plan.dropHeaders = {"apikey"};
  plan.forwardedFor = "1.2.3.4";
  plan.setHeaders = {{"X-Request-Id", "rid"}};
  target.basePath = "/echo.v1.Echo";
  const auto fields = h2RequestFields(h, Framing::kChunked, 0, target, plan);
  EXPECT_EQ(joined(fields),
            ":method: POST\n:scheme: http\n:authority: 127.0.0.1:50051\n"
            ":path: /echo.v1.Echo/Unary\ncontent-type: application/grpc\ngrpc-timeout: 5S\n"
            "te: trailers\nx-request-id: rid\nx-forwarded-for: 1.2.3.4\n"
            "x-forwarded-proto: http\n");

  // TLS: :scheme https; a body of known length: content-length; a TE without trailers: no te.
  target.tls = true;
  h.fields = {{"TE", "gzip"}, {"Accept", "*/*"}};
  plan.tls = true;
  plan.forwardedHost = "gw.example";
  const auto tls = h2RequestFields(h, Framing::kLength, 11, target, plan);
  EXPECT_EQ(joined(tls),
            ":method: POST\n:scheme: https\n:authority: 127.0.0.1:50051\n"
            ":path: /echo.v1.Echo/Unary\naccept: */*\nx-request-id: rid\n"
            "x-forwarded-for: 1.2.3.4\nx-forwarded-proto: https\nx-forwarded-host: gw.example\n"
            "content-length: 11\n");
}

}  // namespace
}  // namespace mgw::http
