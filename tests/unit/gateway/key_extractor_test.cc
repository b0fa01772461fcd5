#include "gateway/key_extractor.h"

#include <gtest/gtest.h>

namespace mgw::gateway {
namespace {

ApiDefinition defaultApi() { return ApiDefinition{}; }  // header apikey, then query apikey

TEST(KeyExtractorTest, HeaderFirst) {
  message::HttpRequest req;
  req.headers.emplace("apikey", "from-header");
  req.query.push_back({"apikey", "from-query"});
  auto k = extractKey(defaultApi(), req);
  ASSERT_TRUE(k);
  EXPECT_EQ(k->value, "from-header");
  EXPECT_EQ(k->source.in, KeyLocation::kHeader);
  EXPECT_EQ(k->source.name, "apikey");
}

TEST(KeyExtractorTest, QueryWhenNoHeader) {
  message::HttpRequest req;
  req.query.push_back({"other", "x"});
  req.query.push_back({"apikey", "from-query"});
  auto k = extractKey(defaultApi(), req);
  ASSERT_TRUE(k);
  EXPECT_EQ(k->value, "from-query");
  EXPECT_EQ(k->source.in, KeyLocation::kQuery);
}

TEST(KeyExtractorTest, HeaderNameIsCaseInsensitiveQueryNameIsNot) {
  message::HttpRequest req;
  req.headers.emplace("APIKey", "h");
  auto k = extractKey(defaultApi(), req);
  ASSERT_TRUE(k);
  EXPECT_EQ(k->value, "h");

  message::HttpRequest q;
  q.query.push_back({"APIKEY", "q"});
  EXPECT_FALSE(extractKey(defaultApi(), q));
}

TEST(KeyExtractorTest, CustomNamesInDeclaredOrder) {
  ApiDefinition api;
  api.keySources = {{KeyLocation::kQuery, "key"}, {KeyLocation::kHeader, "X-Api-Key"}};
  message::HttpRequest req;
  req.headers.emplace("x-api-key", "h");
  req.query.push_back({"key", "q"});
  auto k = extractKey(api, req);
  ASSERT_TRUE(k);
  EXPECT_EQ(k->value, "q");
  EXPECT_EQ(k->source.name, "key");

  // The default names are not looked at when the API declares others.
  message::HttpRequest d;
  d.headers.emplace("apikey", "x");
  EXPECT_FALSE(extractKey(api, d));
}

TEST(KeyExtractorTest, EmptyValueCountsAsAbsent) {
  message::HttpRequest req;
  req.headers.emplace("apikey", "  ");
  req.query.push_back({"apikey", ""});
  EXPECT_FALSE(extractKey(defaultApi(), req));
  req.query.push_back({"apikey", "second"});
  auto k = extractKey(defaultApi(), req);
  ASSERT_TRUE(k);
  EXPECT_EQ(k->value, "second");
}

TEST(KeyExtractorTest, HeaderValueIsTrimmed) {
  message::HttpRequest req;
  req.headers.emplace("apikey", " \tabc.def.ghi \t");
  auto k = extractKey(defaultApi(), req);
  ASSERT_TRUE(k);
  EXPECT_EQ(k->value, "abc.def.ghi");
}

TEST(KeyExtractorTest, NoKeyAnywhere) {
  message::HttpRequest req;
  req.headers.emplace("Authorization", "Bearer x");
  EXPECT_FALSE(extractKey(defaultApi(), req));
  ApiDefinition none;
  none.keySources.clear();
  req.headers.emplace("apikey", "x");
  EXPECT_FALSE(extractKey(none, req));
}

}  // namespace
}  // namespace mgw::gateway
