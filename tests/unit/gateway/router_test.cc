#include "gateway/router.h"

#include <gtest/gtest.h>

namespace mgw::gateway {
namespace {

ApiDefinition api(std::string name, std::string context, std::vector<Resource> resources) {
  ApiDefinition a;
  a.name = std::move(name);
  a.version = "1.0.0";
  a.context = std::move(context);
  a.resources = std::move(resources);
  return a;
}

Router makeRouter() {
  return Router({
      api("Pizza", "/pizzashack/1.0.0",
          {{"GET", "/menu", true},
           {"POST", "/order", true},
           {"GET", "/order/{orderId}", true},
           {"GET", "/order/latest", true},
           {"DELETE", "/order/{orderId}", true}}),
      api("PizzaV2", "/pizzashack/1.0.0/v2", {{"GET", "/menu", true}}),
      api("Inline", "/inline", {{"*", "/*", true}}),
      api("Files", "/files",
          {{"GET", "/*", true}, {"GET", "/docs/{name}", true}, {"HEAD", "/*", false}}),
  });
}

TEST(RouterTest, MatchesContextAndResource) {
  Router r = makeRouter();
  RouteMatch m = r.match("GET", "/pizzashack/1.0.0/menu");
  ASSERT_EQ(m.failure, Failure::kNone);
  EXPECT_EQ(m.api->name, "Pizza");
  EXPECT_EQ(m.resource->pathTemplate, "/menu");
  EXPECT_EQ(m.backendPath, "/menu");
}

TEST(RouterTest, LongestContextWins) {
  Router r = makeRouter();
  RouteMatch m = r.match("GET", "/pizzashack/1.0.0/v2/menu");
  ASSERT_EQ(m.failure, Failure::kNone);
  EXPECT_EQ(m.api->name, "PizzaV2");
  EXPECT_EQ(m.backendPath, "/menu");
}

TEST(RouterTest, ContextMatchesOnlyOnSegmentBoundary) {
  Router r = makeRouter();
  EXPECT_EQ(r.match("GET", "/pizzashack/1.0.00/menu").failure, Failure::kNoApi);
  EXPECT_EQ(r.match("GET", "/pizzashack/1.0.0menu").failure, Failure::kNoApi);
  EXPECT_EQ(r.match("GET", "/pizzashack").failure, Failure::kNoApi);
  EXPECT_EQ(r.match("GET", "/inlinex/a").failure, Failure::kNoApi);
  EXPECT_EQ(r.match("GET", "/").failure, Failure::kNoApi);
  EXPECT_EQ(r.match("GET", "").failure, Failure::kNoApi);
  EXPECT_EQ(r.match("GET", "pizzashack/1.0.0/menu").failure, Failure::kNoApi);
  RouteMatch m = r.match("GET", "/unknown/menu");
  EXPECT_EQ(m.failure, Failure::kNoApi);
  EXPECT_EQ(m.api, nullptr);
}

TEST(RouterTest, BareContextHasBackendPathSlash) {
  Router r = makeRouter();
  RouteMatch m = r.match("GET", "/inline");
  ASSERT_EQ(m.failure, Failure::kNone);
  EXPECT_EQ(m.backendPath, "/");
  m = r.match("PATCH", "/inline/a/b/c");
  ASSERT_EQ(m.failure, Failure::kNone);
  EXPECT_EQ(m.backendPath, "/a/b/c");
}

TEST(RouterTest, MethodMustMatch) {
  Router r = makeRouter();
  RouteMatch m = r.match("POST", "/pizzashack/1.0.0/menu");
  EXPECT_EQ(m.failure, Failure::kNoResource);
  ASSERT_NE(m.api, nullptr);
  EXPECT_EQ(m.api->name, "Pizza");
  EXPECT_EQ(m.resource, nullptr);
  EXPECT_EQ(r.match("PUT", "/pizzashack/1.0.0/order/7").failure, Failure::kNoResource);
  EXPECT_EQ(r.match("get", "/pizzashack/1.0.0/menu").failure,
            Failure::kNoResource);  // methods are case-sensitive
}

TEST(RouterTest, TemplatesMatchOneNonEmptySegment) {
  Router r = makeRouter();
  RouteMatch m = r.match("DELETE", "/pizzashack/1.0.0/order/42");
  ASSERT_EQ(m.failure, Failure::kNone);
  EXPECT_EQ(m.resource->pathTemplate, "/order/{orderId}");
  EXPECT_EQ(r.match("GET", "/pizzashack/1.0.0/order/").failure, Failure::kNoResource);
  EXPECT_EQ(r.match("GET", "/pizzashack/1.0.0/order").failure, Failure::kNoResource);
  EXPECT_EQ(r.match("GET", "/pizzashack/1.0.0/order/1/2").failure, Failure::kNoResource);
}

TEST(RouterTest, LiteralBeatsTemplateBeatsWildcard) {
  Router r = makeRouter();
  EXPECT_EQ(r.match("GET", "/pizzashack/1.0.0/order/latest").resource->pathTemplate,
            "/order/latest");
  EXPECT_EQ(r.match("GET", "/pizzashack/1.0.0/order/other").resource->pathTemplate,
            "/order/{orderId}");
  EXPECT_EQ(r.match("GET", "/files/docs/a").resource->pathTemplate, "/docs/{name}");
  EXPECT_EQ(r.match("GET", "/files/docs/a/b").resource->pathTemplate, "/*");
}

TEST(RouterTest, TrailingSlashNamesTheSameResource) {
  Router r = makeRouter();
  EXPECT_EQ(r.match("GET", "/pizzashack/1.0.0/menu/").failure, Failure::kNone);
  EXPECT_EQ(r.match("GET", "/pizzashack/1.0.0/menu//").failure, Failure::kNoResource);
}

TEST(RouterTest, HeadMatchesGetResources) {
  Router r = makeRouter();
  RouteMatch m = r.match("HEAD", "/pizzashack/1.0.0/menu");
  ASSERT_EQ(m.failure, Failure::kNone);
  EXPECT_EQ(m.resource->method, "GET");
  // An explicit HEAD resource of the same path wins over GET.
  m = r.match("HEAD", "/files/x");
  ASSERT_EQ(m.failure, Failure::kNone);
  EXPECT_EQ(m.resource->method, "HEAD");
  EXPECT_FALSE(m.resource->secured);
  EXPECT_EQ(r.match("HEAD", "/pizzashack/1.0.0/order").failure, Failure::kNoResource);
}

TEST(RouterTest, DotSegmentsAndNulAreNeverRouted) {
  Router r = makeRouter();
  EXPECT_EQ(r.match("GET", "/inline/../admin").failure, Failure::kNoResource);
  EXPECT_EQ(r.match("GET", "/inline/a/./b").failure, Failure::kNoResource);
  EXPECT_EQ(r.match("GET", "/inline/..").failure, Failure::kNoResource);
  EXPECT_EQ(r.match("GET", "/pizzashack/1.0.0/order/..").failure, Failure::kNoResource);
  EXPECT_EQ(r.match("GET", std::string("/inline/a\0b", 11)).failure, Failure::kNoResource);
  // Dots inside a segment are ordinary characters.
  EXPECT_EQ(r.match("GET", "/inline/a..b/.hidden").failure, Failure::kNone);
}

TEST(RouterTest, TemplateMatchesHelper) {
  EXPECT_TRUE(templateMatches("/a/{b}/c", "/a/x/c"));
  EXPECT_FALSE(templateMatches("/a/{b}/c", "/a//c"));
  EXPECT_TRUE(templateMatches("/*", "/"));
  EXPECT_TRUE(templateMatches("/a/*", "/a"));
  EXPECT_TRUE(templateMatches("/a/*", "/a/b/c"));
  EXPECT_FALSE(templateMatches("/a/*", "/ab"));
}

// Issue 22 item 6: GET /admin secured, GET /{page} and GET /static/* open.
Router adminRouter(bool allowPathParameters = false) {
  ApiDefinition a = api("Site", "/site",
                        {{"GET", "/admin", true},
                         {"GET", "/{page}", false},
                         {"GET", "/static/*", false},
                         {"GET", "/static/Secret", true},
                         {"POST", "/{page}", false}});
  a.allowPathParameters = allowPathParameters;
  return Router({a});
}

TEST(RouterTest, PathParametersAreRefusedByDefault) {
  Router r = adminRouter();
  for (const char* path : {"/site/admin;jsessionid=x", "/site/about;v=1", "/site/static/a;b/c",
                           "/site/admin;", "/site/;x"}) {
    RouteMatch m = r.match("GET", path);
    EXPECT_EQ(m.failure, Failure::kPathParameters) << path;
    EXPECT_NE(m.reason.find("holds a ';' parameter"), std::string::npos) << m.reason;
    ASSERT_NE(m.api, nullptr);
  }
  EXPECT_NE(r.match("GET", "/site/admin;jsessionid=x").reason.find("'admin;jsessionid=x'"),
            std::string::npos);
  // Opted out, the parameter is the backend's business, but never a way around /admin.
  Router allowing = adminRouter(true);
  EXPECT_EQ(allowing.match("GET", "/site/about;v=1").failure, Failure::kNone);
  EXPECT_EQ(allowing.match("GET", "/site/admin;jsessionid=x").failure, Failure::kAmbiguousPath);
}

TEST(RouterTest, OtherSpellingsOfASecuredLiteralAreRefused) {
  Router r = adminRouter();
  for (const char* path :
       {"/site/Admin", "/site/ADMIN", "/site/admin.", "/site/admin..", "/site/Admin./",
        "/site/static/secret", "/site/static//Secret", "/site/static/Secret."}) {
    RouteMatch m = r.match("GET", path);
    EXPECT_EQ(m.failure, Failure::kAmbiguousPath) << path;
    EXPECT_EQ(m.resource, nullptr) << path;
  }
  RouteMatch m = r.match("GET", "/site/Admin");
  EXPECT_NE(m.reason.find("secured resource GET /site/admin"), std::string::npos) << m.reason;
  EXPECT_NE(m.reason.find("call it as /site/admin"), std::string::npos) << m.reason;
  // HEAD falls to GET /{page} and is refused the same way.
  EXPECT_EQ(r.match("HEAD", "/site/Admin").failure, Failure::kAmbiguousPath);
  // The secured spelling itself, and pages that are not another spelling, route as before.
  EXPECT_EQ(r.match("GET", "/site/admin").resource->pathTemplate, "/admin");
  EXPECT_EQ(r.match("GET", "/site/admin/").resource->pathTemplate, "/admin");
  EXPECT_EQ(r.match("GET", "/site/about").resource->pathTemplate, "/{page}");
  EXPECT_EQ(r.match("GET", "/site/administrator").resource->pathTemplate, "/{page}");
  EXPECT_EQ(r.match("GET", "/site/static/Secret2").resource->pathTemplate, "/static/*");
  // No secured POST /admin: POST /Admin is the open POST /{page}'s.
  EXPECT_EQ(r.match("POST", "/site/Admin").failure, Failure::kNone);
}

TEST(RouterTest, RepeatedSlashesNeverReachAnotherResource) {
  Router r = adminRouter();
  // "//admin" has an empty first segment: no {page}; "/static//Secret" falls to "*": refused.
  EXPECT_NE(r.match("GET", "/site//admin").failure, Failure::kNone);
  EXPECT_EQ(r.match("GET", "/site/static//Secret").failure, Failure::kAmbiguousPath);
  Router wide({api("Wide", "/wide", {{"GET", "/admin", true}, {"GET", "/*", false}})});
  EXPECT_EQ(wide.match("GET", "/wide//admin").failure, Failure::kAmbiguousPath);
  EXPECT_EQ(wide.match("GET", "/wide/admin//").failure, Failure::kAmbiguousPath);
  EXPECT_EQ(wide.match("GET", "/wide/other").failure, Failure::kNone);
}

// gRPC (SPEC section 16, issue 23): an API whose context is the service's full name and whose
// resources are its methods, each POST; the method's path goes to the backend as it came.
TEST(RouterTest, GrpcServiceAndMethods) {
  Router r({api("Echo", "/echo.v1.Echo",
                {{"POST", "/Unary", true},
                 {"POST", "/ServerStream", true},
                 {"POST", "/ClientStream", true},
                 {"POST", "/Bidi", true}}),
            api("EchoAdmin", "/echo.v1.EchoAdmin", {{"POST", "/Reset", true}})});
  for (const char* method : {"Unary", "ServerStream", "ClientStream", "Bidi"}) {
    RouteMatch m = r.match("POST", std::string("/echo.v1.Echo/") + method);
    ASSERT_EQ(m.failure, Failure::kNone) << method;
    EXPECT_EQ(m.api->name, "Echo");
    EXPECT_EQ(m.backendPath, std::string("/") + method);
  }
  RouteMatch admin = r.match("POST", "/echo.v1.EchoAdmin/Reset");
  ASSERT_EQ(admin.failure, Failure::kNone);
  EXPECT_EQ(admin.api->name, "EchoAdmin");
  // No such method of a known service; no such service; a method called another way.
  EXPECT_EQ(r.match("POST", "/echo.v1.Echo/Missing").failure, Failure::kNoResource);
  EXPECT_EQ(r.match("POST", "/echo.v1.Echo/unary").failure, Failure::kNoResource);
  EXPECT_EQ(r.match("POST", "/echo.v1.Echo").failure, Failure::kNoResource);
  EXPECT_EQ(r.match("POST", "/echo.v1.Ech/Unary").failure, Failure::kNoApi);
  EXPECT_EQ(r.match("POST", "/echo.v2.Echo/Unary").failure, Failure::kNoApi);
  EXPECT_EQ(r.match("GET", "/echo.v1.Echo/Unary").failure, Failure::kNoResource);
}

TEST(RouterTest, ExposesApis) {
  Router r = makeRouter();
  EXPECT_EQ(r.apis().size(), 4u);
}

}  // namespace
}  // namespace mgw::gateway
