#include "config/endpoint_overrides.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/config_loader.h"

namespace mgw::config {
namespace {

TEST(EndpointOverrideKeyTest, WsO2KeyForms) {
  auto k = parseOverrideKey("archiveBackend_prod_endpoint_0");
  ASSERT_TRUE(k);
  EXPECT_EQ(k->name, "archiveBackend");
  EXPECT_FALSE(k->sandbox);
  EXPECT_EQ(k->field, OverrideField::kUrl);
  EXPECT_EQ(k->index, 0u);

  k = parseOverrideKey("api_0123456789abcdef0123456789abcdef_sand_endpoint_12");
  ASSERT_TRUE(k);
  EXPECT_EQ(k->name, "api_0123456789abcdef0123456789abcdef");
  EXPECT_TRUE(k->sandbox);
  EXPECT_EQ(k->index, 12u);

  k = parseOverrideKey("myEp_sand_basic_username");
  ASSERT_TRUE(k);
  EXPECT_EQ(k->name, "myEp");
  EXPECT_TRUE(k->sandbox);
  EXPECT_EQ(k->field, OverrideField::kUsername);

  k = parseOverrideKey("myEp_prod_basic_password");
  ASSERT_TRUE(k);
  EXPECT_EQ(k->field, OverrideField::kPassword);
  EXPECT_FALSE(k->sandbox);

  // Parsed from the end: a name may hold "_prod_" itself, or a '-' (not in the environment).
  k = parseOverrideKey("old_prod_backend_sand_endpoint_1");
  ASSERT_TRUE(k);
  EXPECT_EQ(k->name, "old_prod_backend");
  EXPECT_TRUE(k->sandbox);
  EXPECT_EQ(k->index, 1u);
  EXPECT_EQ(parseOverrideKey("my-backend_prod_endpoint_0")->name, "my-backend");

  // The reverse gives the same keys.
  EXPECT_EQ(overrideKeyText("old_prod_backend", true, OverrideField::kUrl, 1),
            "old_prod_backend_sand_endpoint_1");
  EXPECT_EQ(overrideKeyText("myEp", false, OverrideField::kPassword), "myEp_prod_basic_password");
  EXPECT_EQ(overrideKeyText("myEp", true, OverrideField::kUsername), "myEp_sand_basic_username");
}

TEST(EndpointOverrideKeyTest, NotOverrideKeys) {
  for (const char* key :
       {"", "_prod_endpoint_0", "myEp_endpoint_0", "myEp_test_endpoint_0", "myEp_prod_endpoint_",
        "myEp_prod_endpoint_01", "myEp_prod_endpoint_12345", "myEp_prod_endpoint_-1",
        "myEp_prod_endpoint_0x", "myEp_prod_basic_token", "myEp_PROD_endpoint_0",
        "myEp_prod_Endpoint_0", "listenerConfig", "myEp.prod.endpoint.0"}) {
    EXPECT_FALSE(parseOverrideKey(key)) << key;
  }
}

TEST(EndpointOverrideSourcesTest, EnvironmentTakesOnlyOverrideNames) {
  std::string a = "archive_prod_endpoint_0=http://127.0.0.1:8081/v2";
  std::string b = "PATH=/usr/bin";
  std::string c = "archive_prod_basic_password=s3cret=with=equals";
  std::string d = "my-ep_prod_endpoint_0=http://x";  // not an environment variable name
  std::string e = "archive_prod_endpoint_1";         // no '=': skipped
  std::vector<char*> envp = {a.data(), b.data(), c.data(), d.data(), e.data(), nullptr};
  auto found = overridesFromEnvironment(envp.data());
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].key, "archive_prod_endpoint_0");
  EXPECT_EQ(found[0].value, "http://127.0.0.1:8081/v2");
  EXPECT_EQ(found[0].origin, "the environment");
  EXPECT_EQ(found[1].key, "archive_prod_basic_password");
  EXPECT_EQ(found[1].value, "s3cret=with=equals");
  EXPECT_TRUE(overridesFromEnvironment(nullptr).empty());
}

TEST(EndpointOverrideSourcesTest, CommandLineOverEnvironmentOverFile) {
  auto arg = overrideFromArgument("--archive_prod_endpoint_0=http://cli:1");
  ASSERT_TRUE(arg);
  EXPECT_EQ(arg->key, "archive_prod_endpoint_0");
  EXPECT_EQ(arg->value, "http://cli:1");
  EXPECT_EQ(arg->origin, "the command line");
  EXPECT_FALSE(overrideFromArgument("--config=x"));
  EXPECT_FALSE(overrideFromArgument("archive_prod_endpoint_0=http://cli:1"));
  EXPECT_FALSE(overrideFromArgument("--archive_prod_endpoint_0"));
  EXPECT_EQ(overrideFromArgument("--archive_prod_basic_password=")->value, "");

  std::vector<EndpointOverride> cli = {*arg};
  std::vector<EndpointOverride> env = {
      {"archive_prod_endpoint_0", "http://env:1", "the environment"},
      {"archive_prod_basic_username", "env-user", "the environment"}};
  std::vector<EndpointOverride> file = {{"archive_prod_endpoint_0", "http://file:1", "f.conf:1"},
                                        {"archive_prod_basic_username", "file-user", "f.conf:2"},
                                        {"archive_sand_endpoint_0", "http://file:2", "f.conf:3"}};
  auto merged = mergeOverrides({&cli, &env, &file});
  ASSERT_EQ(merged.size(), 3u);
  EXPECT_EQ(merged[0].key, "archive_prod_basic_username");
  EXPECT_EQ(merged[0].value, "env-user");
  EXPECT_EQ(merged[1].key, "archive_prod_endpoint_0");
  EXPECT_EQ(merged[1].value, "http://cli:1");
  EXPECT_EQ(merged[1].origin, "the command line");
  EXPECT_EQ(merged[2].key, "archive_sand_endpoint_0");
  EXPECT_EQ(merged[2].origin, "f.conf:3");
}

TEST(EndpointOverrideSourcesTest, FileKeysAtTheTopLevel) {
  auto r = loadConfigFromString(
      "archive_prod_endpoint_0 = \"http://127.0.0.1:9/v2\"\n"
      "archive_prod_basic_password = \"pw\"\n"
      "[listenerConfig]\nhttpPort = 0\n",
      "test.conf", "/srv/mgw");
  ASSERT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors[0].toString());
  const auto& o = r.config->endpointOverrides;  // in key order
  ASSERT_EQ(o.size(), 2u);
  EXPECT_EQ(o[0].key, "archive_prod_basic_password");
  EXPECT_EQ(o[0].origin, "test.conf:2");
  EXPECT_EQ(o[1].key, "archive_prod_endpoint_0");
  EXPECT_EQ(o[1].value, "http://127.0.0.1:9/v2");
  EXPECT_EQ(o[1].origin, "test.conf:1");

  // Not a string: an error that never shows a password's value.
  r = loadConfigFromString("archive_prod_basic_password = 12345678\n", "test.conf", "/srv/mgw");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].toString().find("expected a string"), std::string::npos)
      << r.errors[0].toString();
  EXPECT_EQ(r.errors[0].toString().find("12345678"), std::string::npos);
  // Inside a table it is no override: still an unknown key.
  r = loadConfigFromString("[listenerConfig]\narchive_prod_endpoint_0 = \"http://x\"\n",
                           "test.conf", "/srv/mgw");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].toString().find("unknown key"), std::string::npos);
}

}  // namespace
}  // namespace mgw::config
