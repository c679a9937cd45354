// gc-model.json: write -> load round trip, validation errors, and the bundled scenario model.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tools/gcfit/model.h"

namespace zksim::gcfit {
namespace {

GcModel from_pauses() {
  ModelBuilder b;
  std::vector<Pause> ps;
  // Young pauses every ~1 s with varying lengths, two full GCs.
  for (int i = 0; i < 50; ++i) {
    Pause p;
    p.kind = Kind::Young;
    p.seconds = 0.01 + 0.001 * (i % 7) + 0.0001 * (i % 3);
    p.timed = true;
    p.uptime_ns = p.t_ns = int64_t{i} * 1000000000 + (i % 5) * 10000000;
    ps.push_back(p);
  }
  for (int i = 0; i < 3; ++i) {
    Pause p;
    p.kind = Kind::Full;
    p.seconds = 1.5 + i;
    p.timed = true;
    p.uptime_ns = p.t_ns = int64_t{i} * 20000000000;
    ps.push_back(p);
  }
  ParseStats st;
  st.lines = 53;
  st.pauses = 53;
  b.add_file("a.log", st, ps);
  EXPECT_EQ(b.gaps(Kind::Young).size(), 49u);
  EXPECT_EQ(b.gaps(Kind::Full).size(), 2u);
  EXPECT_EQ(b.gaps(Kind::Full)[0], 20.0);
  return model_from_json(nlohmann::json::parse(b.fit({}, "test", "cmd").dump()));
}

TEST(gcfitModel, RoundTrip) {
  GcModel m = from_pauses();
  ASSERT_EQ(m.kinds.size(), 2u);
  const KindModel* y = m.find(Kind::Young);
  ASSERT_NE(y, nullptr);
  EXPECT_EQ(y->durations.n, 50);
  EXPECT_EQ(y->sources, std::vector<std::string>{"a.log"});
  ASSERT_TRUE(y->gaps.has_value());
  EXPECT_EQ(y->gaps->n, 49);
  EXPECT_EQ(y->durations.dist.table.front().p, 0.0);
  EXPECT_EQ(y->durations.dist.table.back().p, 1.0);
  EXPECT_EQ(y->durations.dist.table.front().value, 0.01);
  EXPECT_NE(y->durations.dist.family, Family::Empirical);
  // The loaded distribution is the one fitted: its quantiles stay in a sane range.
  double q50 = y->durations.dist.quantile(0.5);
  EXPECT_GT(q50, 0.011);
  EXPECT_LT(q50, 0.016);
  EXPECT_EQ(m.find(Kind::Mixed), nullptr);
  EXPECT_EQ(m.comment, "test");
}

TEST(gcfitModel, ValidationErrorsNameTheProblem) {
  auto err = [](const std::string& text) {
    try {
      model_from_json(nlohmann::json::parse(text), "m.json");
    } catch (const ModelError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(err("{}").find("not a gc model"), std::string::npos);
  std::string base = R"({"format":"zksim-gc-model/1","kinds":{"young":{"durations":)";
  std::string table = R"("empirical":{"quantiles":[[0,0.1],[1,0.2]]})";
  EXPECT_NE(
      err(base + R"({"n":2,"family":"gamma","params":{"shape":-1,"scale":1},)" + table + "}}}}")
          .find("m.json: kinds.young.durations.params: \"shape\" must be > 0"),
      std::string::npos);
  EXPECT_NE(err(base + R"({"n":2,"family":"pareto",)" + table + "}}}}").find("family"),
            std::string::npos);
  EXPECT_NE(
      err(base + R"({"n":2,"family":"empirical","empirical":{"quantiles":[[0,0.2],[1,0.1]]}}}}})")
          .find("rise"),
      std::string::npos);
  EXPECT_EQ(err(base + R"({"n":2,"family":"exponential","params":{"mean":0.1},)" + table + "}}}}"),
            "no error");
  EXPECT_THROW(load_model("/nonexistent/model.json"), ModelError);
}

TEST(gcfitModel, BundledScenarioModelsLoad) {
  std::filesystem::path dir = std::filesystem::path(ZKSIM_SOURCE_DIR) / "scenarios/gc-models";
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() != ".json") continue;
    GcModel m = load_model(e.path().string());
    const KindModel* y = m.find(Kind::Young);
    ASSERT_NE(y, nullptr) << e.path();
    EXPECT_GT(y->durations.n, 100) << e.path();
    EXPECT_FALSE(m.command.empty()) << e.path();
    ++n;
  }
  EXPECT_GE(n, 1);
}

TEST(gcfitModel, PausesAtTheSameInstantGiveNoZeroGaps) {
  // Two (or more) pauses of one kind starting at the same instant are a duplicated entry: the gap
  // of 0 s is left out (a gap distribution at 0 would have the engine pause back to back).
  auto pause = [](int64_t t_ns) {
    Pause p;
    p.kind = Kind::Young;
    p.seconds = 0.01;
    p.timed = true;
    p.uptime_ns = p.t_ns = t_ns;
    return p;
  };
  ParseStats st;
  {
    ModelBuilder b;
    auto w = b.add_file("same.log", st, {pause(163000000), pause(163000000)});
    EXPECT_TRUE(b.gaps(Kind::Young).empty());
    ASSERT_EQ(w.size(), 1u);
    EXPECT_NE(w[0].find("same.log: 1 young pause(s) start at the same instant"), std::string::npos)
        << w[0];
    EXPECT_NE(w[0].find("no gap distribution"), std::string::npos) << w[0];
    auto j = b.fit({}, "", "");
    EXPECT_TRUE(j["kinds"]["young"]["gaps"].is_null());
  }
  {
    ModelBuilder b;
    auto w =
        b.add_file("dup.log", st,
                   {pause(1000000000), pause(1000000000), pause(3000000000), pause(6000000000)});
    EXPECT_EQ(b.gaps(Kind::Young), (std::vector<double>{2.0, 3.0}));
    ASSERT_EQ(w.size(), 1u);
    EXPECT_EQ(w[0].find("no gap distribution"), std::string::npos) << w[0];
  }
}

}  // namespace
}  // namespace zksim::gcfit
