// zksim sweep: statistics, grid parsing, sharding, jobs-independence, resume and merge.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "sim/config.h"
#include "tools/sweep/merge.h"
#include "tools/sweep/stats.h"
#include "tools/sweep/sweep.h"

namespace sw = zksim::sweep;
namespace fs = std::filesystem;

namespace {

const std::string kData = std::string(ZKSIM_SOURCE_DIR) + "/tests/sweep/data";

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void spit(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

struct TempDir {
  fs::path path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "zksim-sweep-XXXXXX").string();
    path = ::mkdtemp(tmpl.data());
  }
  ~TempDir() { fs::remove_all(path); }
  std::string operator/(const std::string& name) const { return (path / name).string(); }
};

sw::Plan small_plan(int runs = 3) {
  sw::Spec s;
  s.scenario_path = kData + "/ifdown-small.json";
  s.axes.push_back(sw::parse_axis("meta.localTimer=200ms,3600ms"));
  s.axes.push_back(sw::parse_axis("meta.sessionTimeout=4s:8s:2s"));
  s.runs = runs;
  s.seed = 5;
  return sw::make_plan(s);
}

std::string run_to(const sw::Plan& plan, const std::string& out, int jobs, sw::Shard shard = {}) {
  sw::RunConfig cfg;
  cfg.jobs = jobs;
  cfg.quiet = true;
  cfg.shard = shard;
  cfg.outputs = {out};
  EXPECT_EQ(sw::run_sweep(plan, cfg), 0);
  return slurp(out);
}

int count_lines(const std::string& s) {
  return static_cast<int>(std::count(s.begin(), s.end(), '\n'));
}

}  // namespace

// ---- statistics ------------------------------------------------------------------------------

TEST(Wilson, MatchesReferenceValues) {
  // Reference values: Wilson (1927) closed form, also what R binom.confint(method = "wilson")
  // gives.
  auto a = sw::wilson(5, 10);
  EXPECT_NEAR(a.lo, 0.236593, 1e-6);
  EXPECT_NEAR(a.hi, 0.763407, 1e-6);
  auto b = sw::wilson(0, 10);
  EXPECT_EQ(b.lo, 0.0);
  EXPECT_NEAR(b.hi, 0.277533, 1e-6);
  auto c = sw::wilson(10, 10);
  EXPECT_NEAR(c.lo, 0.722467, 1e-6);
  EXPECT_EQ(c.hi, 1.0);
  auto d = sw::wilson(1, 200);
  EXPECT_NEAR(d.lo, 0.000883, 1e-6);
  EXPECT_NEAR(d.hi, 0.027774, 1e-6);
  auto e = sw::wilson(0, 0);
  EXPECT_EQ(e.lo, 0.0);
  EXPECT_EQ(e.hi, 1.0);
}

TEST(Percentile, NearestRank) {
  std::vector<int64_t> v = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  EXPECT_EQ(sw::percentile_nearest_rank(v, 50), 5);
  EXPECT_EQ(sw::percentile_nearest_rank(v, 99), 10);
  EXPECT_EQ(sw::percentile_nearest_rank(v, 100), 10);
  EXPECT_EQ(sw::percentile_nearest_rank(v, 10), 1);
  std::vector<int64_t> one = {42};
  EXPECT_EQ(sw::percentile_nearest_rank(one, 50), 42);
  std::vector<int64_t> hundred(200);
  for (int i = 0; i < 200; ++i) hundred[i] = i;
  EXPECT_EQ(sw::percentile_nearest_rank(hundred, 99), 197);  // ceil(0.99*200) = 198th value
}

// ---- grid --------------------------------------------------------------------------------------

TEST(Grid, ListsAndRanges) {
  auto a = sw::parse_axis("zk.tickTime=500ms,1s,2s");
  EXPECT_EQ(a.path, "zk.tickTime");
  EXPECT_EQ(a.values, (std::vector<std::string>{"500ms", "1s", "2s"}));
  auto b = sw::parse_axis("meta.localTimer=200ms:4s:200ms");
  ASSERT_EQ(b.values.size(), 20u);
  EXPECT_EQ(b.values.front(), "200ms");
  EXPECT_EQ(b.values[4], "1000ms");
  EXPECT_EQ(b.values.back(), "4000ms");
  auto c = sw::parse_axis("zk.syncLimit=2:10:4");
  EXPECT_EQ(c.values, (std::vector<std::string>{"2", "6", "10"}));
  auto d = sw::parse_axis("zk.tickTime=1s:3s:1s,5s");  // mixed list and range
  EXPECT_EQ(d.values, (std::vector<std::string>{"1s", "2s", "3s", "5s"}));
}

TEST(Grid, BadSyntaxIsAConfigError) {
  for (const char* bad :
       {"meta.localTimer", "=1s", "meta.localTimer=", "meta.localTimer=1s:2s",
        "meta.localTimer=2s:1s:100ms", "meta.localTimer=1s:2s:0ms", "meta.localTimer=1s:2s:fast",
        "meta.localTimer=1s,,2s", "meta.localTimer=1s,1s", "x=0:100000000:1"}) {
    EXPECT_THROW(sw::parse_axis(bad), sim::ConfigError) << bad;
  }
  try {
    sw::parse_axis("meta.localTimer=1s:2s:fast");
  } catch (const sim::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("meta.localTimer"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("fast"), std::string::npos) << e.what();
  }
}

TEST(Grid, UnknownFieldNamesTheKeyPath) {
  sw::Spec s;
  s.scenario_path = kData + "/ifdown-small.json";
  s.axes.push_back(sw::parse_axis("meta.localTimr=1s,2s"));
  try {
    sw::make_plan(s);
    FAIL() << "expected a ConfigError";
  } catch (const sim::ConfigError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("meta.localTimr"), std::string::npos) << m;
    EXPECT_NE(m.find("unknown key"), std::string::npos) << m;
  }
  sw::Spec t;
  t.scenario_path = kData + "/ifdown-small.json";
  t.axes.push_back(sw::parse_axis("meta.sessionTimeout=0s,2s"));  // out of range value
  EXPECT_THROW(sw::make_plan(t), sim::ConfigError);
}

TEST(Grid, PointsAreRowMajorAndSeedsDependOnPointAndRun) {
  auto plan = small_plan();
  ASSERT_EQ(plan.points.size(), 6u);
  EXPECT_EQ(plan.points[0].key, "meta.localTimer=200ms;meta.sessionTimeout=4s");
  EXPECT_EQ(plan.points[1].key, "meta.localTimer=200ms;meta.sessionTimeout=6s");
  EXPECT_EQ(plan.points[3].key, "meta.localTimer=3600ms;meta.sessionTimeout=4s");
  EXPECT_EQ(plan.points[3].sc.meta.local_timer, sim::Duration::ms(3600));
  EXPECT_EQ(plan.points[5].sc.meta.session_timeout, sim::Duration::s(8));
  std::set<uint64_t> seeds;
  for (const auto& p : plan.points) {
    for (int i = 0; i < 3; ++i) seeds.insert(sw::run_seed(plan.seed, p.key, i));
  }
  EXPECT_EQ(seeds.size(), 18u);
  EXPECT_EQ(sw::run_seed(5, "a=1", 0), sw::run_seed(5, "a=1", 0));
  EXPECT_NE(sw::run_seed(5, "a=1", 0), sw::run_seed(6, "a=1", 0));
  // The spec hash covers runs and seed.
  auto other = small_plan(4);
  EXPECT_NE(other.spec_hash, plan.spec_hash);
  EXPECT_EQ(small_plan().spec_hash, plan.spec_hash);
}

TEST(Grid, SpecFile) {
  auto s = sw::load_spec(kData + "/spec.json");
  EXPECT_EQ(s.runs, 4);
  ASSERT_EQ(s.axes.size(), 2u);
  EXPECT_EQ(s.axes[0].values, (std::vector<std::string>{"200ms", "1900ms", "3600ms"}));
  EXPECT_EQ(s.axes[1].values, (std::vector<std::string>{"4s", "6s"}));
  TempDir tmp;
  spit(tmp / "bad.json", "{\"scenario\": \"x.json\", \"grid\": [], \"rnus\": 3}");
  try {
    sw::load_spec(tmp / "bad.json");
    FAIL();
  } catch (const sim::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("rnus"), std::string::npos) << e.what();
  }
  spit(tmp / "syntax.json", "{\n\"scenario\": \"x.json\",\n\"grid\": [\n}");
  try {
    sw::load_spec(tmp / "syntax.json");
    FAIL();
  } catch (const sim::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("syntax.json:4"), std::string::npos) << e.what();
  }
  EXPECT_THROW(sw::load_spec(tmp / "absent.json"), sim::ConfigError);
}

// ---- shards ------------------------------------------------------------------------------------

TEST(Shard, ParseAndPartition) {
  auto s = sw::parse_shard("2/4");
  EXPECT_EQ(s.k, 2);
  EXPECT_EQ(s.n, 4);
  for (const char* bad : {"4/4", "-1/4", "1/0", "x/2", "1", "1/2/3", ""}) {
    EXPECT_THROW(sw::parse_shard(bad), sim::ConfigError) << bad;
  }
  // Every point in exactly one of N shards.
  for (size_t p = 0; p < 50; ++p) {
    int owners = 0;
    for (int k = 0; k < 4; ++k) owners += sw::in_shard(p, {k, 4});
    EXPECT_EQ(owners, 1);
  }
}

TEST(Shard, FromEnvironment) {
  for (const char* v : {"SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT", "SLURM_ARRAY_TASK_MIN",
                        "SLURM_ARRAY_TASK_STEP", "JOB_COMPLETION_INDEX", "ZKSIM_SHARD_COUNT"}) {
    ::unsetenv(v);
  }
  EXPECT_FALSE(sw::shard_from_env(nullptr));
  ::setenv("SLURM_ARRAY_TASK_ID", "5", 1);
  ::setenv("SLURM_ARRAY_TASK_COUNT", "4", 1);
  ::setenv("SLURM_ARRAY_TASK_MIN", "3", 1);
  auto s = sw::shard_from_env(nullptr);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->k, 2);
  EXPECT_EQ(s->n, 4);
  ::setenv("SLURM_ARRAY_TASK_ID", "9", 1);
  EXPECT_THROW(sw::shard_from_env(nullptr), sim::ConfigError);
  ::unsetenv("SLURM_ARRAY_TASK_ID");
  ::unsetenv("SLURM_ARRAY_TASK_COUNT");
  ::unsetenv("SLURM_ARRAY_TASK_MIN");
  ::setenv("JOB_COMPLETION_INDEX", "1", 1);
  EXPECT_THROW(sw::shard_from_env(nullptr), sim::ConfigError);  // no count
  ::setenv("ZKSIM_SHARD_COUNT", "3", 1);
  s = sw::shard_from_env(nullptr);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->k, 1);
  EXPECT_EQ(s->n, 3);
  ::unsetenv("JOB_COMPLETION_INDEX");
  ::unsetenv("ZKSIM_SHARD_COUNT");
}

// ---- running -----------------------------------------------------------------------------------

TEST(Run, OutputIsIndependentOfJobs) {
  auto plan = small_plan();
  TempDir tmp;
  std::string one = run_to(plan, tmp / "j1.csv", 1);
  std::string three = run_to(plan, tmp / "j3.csv", 3);
  EXPECT_EQ(one, three);
  EXPECT_EQ(count_lines(one), 7);
  // JSONL carries the same numbers.
  std::string j1 = run_to(plan, tmp / "j1.jsonl", 1);
  std::string j2 = run_to(plan, tmp / "j2.jsonl", 2);
  EXPECT_EQ(j1, j2);
  EXPECT_EQ(count_lines(j1), 6);
  auto first = nlohmann::json::parse(j1.substr(0, j1.find('\n')));
  EXPECT_EQ(first["point"], 0);
  EXPECT_EQ(first["params"]["meta.localTimer"], "200ms");
  EXPECT_EQ(first["runs"], 3);
  auto csv_row = sw::parse_csv_line(
      one.substr(one.find('\n') + 1, one.find('\n', one.find('\n') + 1) - one.find('\n') - 1));
  EXPECT_EQ(csv_row[0], "0");
  EXPECT_EQ(csv_row[3], "2x3");  // shape
  EXPECT_EQ(csv_row[4], "meta.localTimer=200ms;meta.sessionTimeout=4s");
  EXPECT_EQ(csv_row[5], "200ms");
  EXPECT_EQ(csv_row[6], "4s");
  EXPECT_EQ(csv_row[7], "3");  // runs
}

TEST(Run, MetricsAreConsistent) {
  auto plan = small_plan(6);
  const auto& p = plan.points[3];  // localTimer 3600ms, session 4s: the seed's dual-leader regime
  auto s = sw::compute_point(plan, p);
  EXPECT_EQ(s.runs, 6);
  EXPECT_EQ(s.unavail_max_ns.size(), 6u);
  EXPECT_TRUE(std::is_sorted(s.unavail_max_ns.begin(), s.unavail_max_ns.end()));
  EXPECT_LE(s.dual_runs, s.runs);
  EXPECT_LE(s.dual_runs, s.dual_windows);
  EXPECT_LE(s.dual_max_ns * (s.dual_windows ? 1 : 0), s.dual_total_ns);
  auto f = sw::row_fields(plan, p, s);
  ASSERT_EQ(f.size(), plan.columns.size());
  // Recomputing the same point gives the same row (determinism).
  EXPECT_EQ(f, sw::row_fields(plan, p, sw::compute_point(plan, p)));
  // Local timer 200 ms stops the old leader long before ZooKeeper expires its session: the seed's
  // trade-off says no dual leader there, and an unavailability window in every run.
  auto q = sw::compute_point(plan, plan.points[1]);  // 200ms, 6s
  EXPECT_EQ(q.dual_runs, 0);
  EXPECT_GT(q.unavail_max_ns.front(), 0);
}

TEST(Run, ResumeAfterTornLineGivesTheSameBytes) {
  auto plan = small_plan();
  TempDir tmp;
  std::string full = run_to(plan, tmp / "full.csv", 2);
  // Simulate a kill: header + 2 rows + half of the third row.
  size_t cut = 0;
  for (int i = 0; i < 3; ++i) cut = full.find('\n', cut) + 1;
  size_t torn = cut + (full.find('\n', cut) - cut) / 2;
  spit(tmp / "part.csv", full.substr(0, torn));
  sw::RunReport rep;
  sw::RunConfig cfg;
  cfg.jobs = 2;
  cfg.quiet = true;
  cfg.outputs = {tmp / "part.csv"};
  ASSERT_EQ(sw::run_sweep(plan, cfg, &rep), 0);
  EXPECT_EQ(rep.points_skipped, 2u);
  EXPECT_EQ(rep.points_done, 4u);
  EXPECT_EQ(slurp(tmp / "part.csv"), full);
  // Running again recomputes nothing.
  ASSERT_EQ(sw::run_sweep(plan, cfg, &rep), 0);
  EXPECT_EQ(rep.points_skipped, 6u);
  EXPECT_EQ(rep.points_done, 0u);
  EXPECT_EQ(rep.runs_done, 0);
  EXPECT_EQ(slurp(tmp / "part.csv"), full);
  // A torn header alone is rewritten.
  spit(tmp / "hdr.csv", full.substr(0, 10));
  cfg.outputs = {tmp / "hdr.csv"};
  ASSERT_EQ(sw::run_sweep(plan, cfg, &rep), 0);
  EXPECT_EQ(slurp(tmp / "hdr.csv"), full);
}

TEST(Run, CsvAndJsonlOutOfStepAreBothCompleted) {
  auto plan = small_plan();
  TempDir tmp;
  sw::RunConfig cfg;
  cfg.jobs = 2;
  cfg.quiet = true;
  cfg.outputs = {tmp / "a.csv", tmp / "a.jsonl"};
  ASSERT_EQ(sw::run_sweep(plan, cfg), 0);
  std::string csv = slurp(tmp / "a.csv"), jsonl = slurp(tmp / "a.jsonl");
  // CSV has 4 rows, JSONL 2: the resume writes each file only what it lacks.
  size_t c = 0;
  for (int i = 0; i < 5; ++i) c = csv.find('\n', c) + 1;
  size_t j = 0;
  for (int i = 0; i < 2; ++i) j = jsonl.find('\n', j) + 1;
  spit(tmp / "a.csv", csv.substr(0, c));
  spit(tmp / "a.jsonl", jsonl.substr(0, j));
  sw::RunReport rep;
  ASSERT_EQ(sw::run_sweep(plan, cfg, &rep), 0);
  EXPECT_EQ(rep.points_skipped, 2u);
  EXPECT_EQ(slurp(tmp / "a.csv"), csv);
  EXPECT_EQ(slurp(tmp / "a.jsonl"), jsonl);
}

TEST(Run, RefusesToResumeAnotherSweep) {
  TempDir tmp;
  auto plan = small_plan(3);
  std::string out = run_to(plan, tmp / "x.csv", 2);
  auto other = small_plan(4);  // same columns, different runs => different spec hash
  sw::RunConfig cfg;
  cfg.jobs = 1;
  cfg.quiet = true;
  cfg.outputs = {tmp / "x.csv"};
  EXPECT_EQ(sw::run_sweep(other, cfg), 2);
  EXPECT_EQ(slurp(tmp / "x.csv"), out);  // untouched
  spit(tmp / "y.csv", "something,else\n");
  cfg.outputs = {tmp / "y.csv"};
  EXPECT_EQ(sw::run_sweep(plan, cfg), 2);
}

// ---- merge -------------------------------------------------------------------------------------

namespace {
int merge_to(const std::vector<std::string>& files, std::string* out, std::string* err) {
  char* obuf = nullptr;
  char* ebuf = nullptr;
  size_t olen = 0, elen = 0;
  std::FILE* o = ::open_memstream(&obuf, &olen);
  std::FILE* e = ::open_memstream(&ebuf, &elen);
  int rc = sw::merge_files(files, o, e);
  std::fclose(o);
  std::fclose(e);
  *out = std::string(obuf, olen);
  *err = std::string(ebuf, elen);
  std::free(obuf);
  std::free(ebuf);
  return rc;
}
}  // namespace

TEST(Merge, ShardsMergeToTheSingleMachineBytes) {
  auto plan = small_plan();
  TempDir tmp;
  std::string whole = run_to(plan, tmp / "whole.csv", 2);
  std::vector<std::string> shards;
  for (int k = 0; k < 4; ++k) {  // 6 points over 4 shards: uneven on purpose
    shards.push_back(tmp / ("s" + std::to_string(k) + ".csv"));
    run_to(plan, shards.back(), 1, {k, 4});
  }
  std::string merged, err;
  ASSERT_EQ(merge_to({shards[3], shards[1], shards[0], shards[2]}, &merged, &err), 0) << err;
  EXPECT_EQ(merged, whole);
  // JSONL too.
  std::string wj = run_to(plan, tmp / "whole.jsonl", 2);
  std::vector<std::string> js;
  for (int k = 0; k < 2; ++k) {
    js.push_back(tmp / ("s" + std::to_string(k) + ".jsonl"));
    run_to(plan, js.back(), 2, {k, 2});
  }
  ASSERT_EQ(merge_to(js, &merged, &err), 0) << err;
  EXPECT_EQ(merged, wj);
}

TEST(Merge, NamesMissingAndDuplicatedPoints) {
  auto plan = small_plan();
  TempDir tmp;
  std::vector<std::string> shards;
  for (int k = 0; k < 3; ++k) {
    shards.push_back(tmp / ("s" + std::to_string(k) + ".csv"));
    run_to(plan, shards.back(), 1, {k, 3});
  }
  std::string out, err;
  // Missing shard 1: points 1 and 4.
  EXPECT_EQ(merge_to({shards[0], shards[2]}, &out, &err), 1);
  EXPECT_NE(err.find("2 of 6 points missing"), std::string::npos) << err;
  // No other row holds sessionTimeout=6s: its coordinate comes from the grid's shape.
  EXPECT_NE(err.find("point 1 (meta.localTimer=200ms;meta.sessionTimeout=<value 2 of 3>)"),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("point 4 (meta.localTimer=3600ms;meta.sessionTimeout=<value 2 of 3>)"),
            std::string::npos)
      << err;
  EXPECT_TRUE(out.empty());
  // One row lost from a shard: named with its values.
  std::string s0 = slurp(shards[0]);  // header, point 0, point 3
  spit(tmp / "s0-lost.csv", s0.substr(0, s0.find('\n', s0.find('\n') + 1) + 1));
  EXPECT_EQ(merge_to({tmp / "s0-lost.csv", shards[1], shards[2]}, &out, &err), 1);
  EXPECT_NE(err.find("1 of 6 points missing"), std::string::npos) << err;
  EXPECT_NE(err.find("point 3 (meta.localTimer=3600ms;meta.sessionTimeout=4s)"), std::string::npos)
      << err;
  // Duplicate: shard 2 given twice.
  EXPECT_EQ(merge_to({shards[0], shards[1], shards[2], shards[2]}, &out, &err), 1);
  EXPECT_NE(err.find("point 2 (meta.localTimer=200ms;meta.sessionTimeout=8s) appears twice"),
            std::string::npos)
      << err;
  // A torn shard is refused.
  std::string s1 = slurp(shards[1]);
  spit(tmp / "torn.csv", s1.substr(0, s1.size() - 5));
  EXPECT_EQ(merge_to({shards[0], tmp / "torn.csv", shards[2]}, &out, &err), 1);
  EXPECT_NE(err.find("torn"), std::string::npos) << err;
  // A file that is no sweep output (a binary, no final newline) is bad input, not a torn sweep.
  spit(tmp / "binary.csv", std::string(1, '\x7f') + std::string("ELF\x02\x01\x01\0\0", 8));
  EXPECT_EQ(merge_to({shards[0], tmp / "binary.csv"}, &out, &err), 2);
  EXPECT_NE(err.find("binary.csv:1: not a zksim sweep CSV header or JSONL row"), std::string::npos)
      << err;
  // A shard of another sweep is refused.
  auto other = small_plan(4);
  run_to(other, tmp / "other.csv", 1, {1, 3});
  EXPECT_EQ(merge_to({shards[0], tmp / "other.csv", shards[2]}, &out, &err), 2);
  EXPECT_NE(err.find("spec hash"), std::string::npos) << err;
  EXPECT_EQ(merge_to({tmp / "absent.csv"}, &out, &err), 2);
}

// ---- --faults fuzz -----------------------------------------------------------------------------

namespace {

// The test scenario without its ifdown (a no-fault base), swept over the session timeout with two
// spellings of the same value: points 0 and 1 have identical parameters.
sw::Plan fuzz_plan(const std::string& faults, int runs = 12,
                   std::vector<std::string> sets = {"faults=[]"}) {
  sw::Spec s;
  s.scenario_path = kData + "/ifdown-small.json";
  s.sets = std::move(sets);
  s.axes.push_back(sw::parse_axis("meta.sessionTimeout=6s,6000ms,4s"));
  s.runs = runs;
  s.seed = 21;
  s.faults = faults;
  return sw::make_plan(s);
}

// The row's metric fields (from "runs" on): what the parameters and faults determine.
std::vector<std::string> metrics_of(const sw::Plan& plan, size_t point) {
  const auto& p = plan.points[point];
  auto f = sw::row_fields(plan, p, sw::compute_point(plan, p));
  return std::vector<std::string>(f.begin() + static_cast<long>(sw::kAxisColumn + 1), f.end());
}

std::string config_error(const sw::Spec& s) {
  try {
    sw::make_plan(s);
  } catch (const sim::ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST(FuzzFaults, RunsContainFaults) {
  // Without faults nothing fails over: one election, no unavailability window.
  auto calm = fuzz_plan("scenario");
  auto c = sw::compute_point(calm, calm.points[0]);
  EXPECT_EQ(c.failovers, 0);
  EXPECT_EQ(c.meta_stops, 0);
  EXPECT_EQ(c.unavail_max_ns.back(), 0);
  EXPECT_EQ(c.zk_elections, c.runs);  // the initial election only
  // The same base with the fuzz generator's schedules: every run has 1..3 faults, and they show.
  auto fz = fuzz_plan("fuzz");
  ASSERT_TRUE(fz.fuzz);
  for (int i = 0; i < fz.spec.runs; ++i) {
    auto sch = sw::fuzz_schedule(fz, i);
    EXPECT_GE(sch.faults.size(), 1u) << i;
    EXPECT_LE(sch.faults.size(), 3u) << i;
  }
  auto f = sw::compute_point(fz, fz.points[0]);
  EXPECT_EQ(f.runs, 12);
  // (Numbers with seed 21: 3 failovers, 10 meta stops, 13 ZooKeeper elections, 2 runs without a
  // meta leader for up to 11.4 s; many schedules hit only followers or heal within the timers.)
  EXPECT_GT(f.failovers, 0);
  EXPECT_GT(f.meta_stops, 0);
  EXPECT_GT(f.zk_elections, f.runs);  // some schedules hit the ZooKeeper leader
  int unavailable = 0;
  for (int64_t ns : f.unavail_max_ns) unavailable += ns > 0;
  EXPECT_GT(unavailable, 0);
  EXPECT_GT(f.unavail_max_ns.back(), 1000'000'000);  // some run lost its meta leader for > 1 s
  // The base scenario's own faults are replaced, not added to: with or without its ifdown, the
  // fuzz sweep gives the same rows.
  auto with_ifdown = fuzz_plan("fuzz", 12, {});
  EXPECT_EQ(metrics_of(with_ifdown, 0), metrics_of(fz, 0));
}

TEST(FuzzFaults, EveryPointSeesTheSameSchedules) {
  // Points 0 (6s) and 1 (6000ms) have identical parameters: with common fault schedules and run
  // seeds their rows are identical; point 2 (4s) differs through its parameter only.
  auto fz = fuzz_plan("fuzz");
  auto r0 = metrics_of(fz, 0), r1 = metrics_of(fz, 1), r2 = metrics_of(fz, 2);
  EXPECT_EQ(r0, r1);
  EXPECT_NE(r0, r2);
  // With the scenario's faults (the ifdown) the run seeds depend on the point: identical
  // parameters give different rows (different unavailability windows).
  auto sc = fuzz_plan("scenario", 12, {});
  EXPECT_NE(metrics_of(sc, 0), metrics_of(sc, 1));
}

TEST(FuzzFaults, SchedulesAreTheFuzzCampaignsOfTheSweepSeed) {
  auto fz = fuzz_plan("fuzz");
  // No axis moves the generator's defaults here except the 4 s point, which only starts earlier:
  // the window is the base's (the latest start, the earliest heal).
  zksim::fuzz::Bounds b;
  zksim::fuzz::complete_bounds(fz.base, {}, b);
  auto d = zksim::fuzz::default_gen_config(fz.base, b);
  EXPECT_EQ(fz.gen.window_from, d.window_from);
  EXPECT_EQ(fz.gen.window_to, d.window_to);
  EXPECT_EQ(fz.gen.heal_by, d.heal_by);
  EXPECT_EQ(fz.gen.max_faults, 3);
  EXPECT_TRUE(fz.gen.kinds.empty());
  EXPECT_TRUE(fz.gen.vary_seed);
  for (int i = 0; i < fz.spec.runs; ++i) {
    EXPECT_TRUE(sw::fuzz_schedule(fz, i) == zksim::fuzz::generate_run(fz.base, d, 21, i)) << i;
  }
  EXPECT_FALSE(sw::fuzz_schedule(fz, 0) == sw::fuzz_schedule(fz, 1));
  // A point's stats are the aggregate of fuzz::run_schedule over those schedules.
  const auto& p = fz.points[2];
  auto s = sw::compute_point(fz, p);
  int64_t failovers = 0, elections = 0;
  ::scenario::Scenario work = p.sc;
  for (int i = 0; i < fz.spec.runs; ++i) {
    auto r = zksim::fuzz::run_schedule(work, zksim::fuzz::generate_run(fz.base, d, 21, i), false);
    failovers += std::max<int64_t>(0, r.metrics.meta_leader_changes - 1);
    elections += r.metrics.zk_elections;
  }
  EXPECT_EQ(s.failovers, failovers);
  EXPECT_EQ(s.zk_elections, elections);
  // The sweep seed picks the schedules; the spec hash covers the fault model and its settings.
  sw::Spec other = fz.spec;
  other.seed = 22;
  auto o = sw::make_plan(other);
  EXPECT_FALSE(sw::fuzz_schedule(o, 0) == sw::fuzz_schedule(fz, 0));
  EXPECT_NE(o.spec_hash, fz.spec_hash);
  EXPECT_NE(fuzz_plan("scenario").spec_hash, fz.spec_hash);
  sw::Spec fewer = fz.spec;
  fewer.fuzz.max_faults = 1;
  auto f1 = sw::make_plan(fewer);
  EXPECT_NE(f1.spec_hash, fz.spec_hash);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(sw::fuzz_schedule(f1, i).faults.size(), 1u);
}

TEST(FuzzFaults, WindowFitsEveryPoint) {
  // A 12 s session timeout needs longer to elect the first meta leader (4 s start jitter + 12 s;
  // 30 s runs cap it at half the run): faults start after it at every point; a 40 s point heals
  // by the 30 s points' deadline.
  sw::Spec s;
  s.scenario_path = kData + "/ifdown-small.json";
  s.axes.push_back(sw::parse_axis("meta.sessionTimeout=4s,12s"));
  s.axes.push_back(sw::parse_axis("duration=30s,40s"));
  s.runs = 2;
  s.faults = "fuzz";
  auto plan = sw::make_plan(s);
  zksim::fuzz::Bounds b;
  auto base = zksim::fuzz::default_gen_config(plan.base, b);
  auto slow = zksim::fuzz::default_gen_config(plan.points[3].sc, b);      // 12s, 40s
  auto long_run = zksim::fuzz::default_gen_config(plan.points[1].sc, b);  // 4s, 40s
  EXPECT_GT(slow.window_from, base.window_from);
  EXPECT_EQ(plan.gen.window_from, slow.window_from);
  EXPECT_GT(long_run.heal_by, base.heal_by);
  EXPECT_EQ(plan.gen.heal_by, base.heal_by);
  EXPECT_EQ(plan.gen.window_to, base.heal_by - plan.gen.min_duration);
  for (int i = 0; i < 30; ++i) {
    for (const auto& f : sw::fuzz_schedule(plan, i).faults) {
      EXPECT_GE(f.at, slow.window_from);
      EXPECT_LE(f.at + f.duration.value_or(f.restart_after.value_or(sim::Duration::zero())),
                base.heal_by);
    }
  }
  // Explicit settings override.
  s.fuzz.window_from = sim::Duration::s(12);
  s.fuzz.window_to = sim::Duration::s(13);
  s.fuzz.heal_by = sim::Duration::s(20);
  s.fuzz.max_duration = sim::Duration::s(2);
  s.fuzz.kinds = {"ifdown"};
  auto t = sw::make_plan(s);
  for (int i = 0; i < 30; ++i) {
    for (const auto& f : sw::fuzz_schedule(t, i).faults) {
      EXPECT_EQ(f.kind, "ifdown");
      EXPECT_GE(f.at, sim::Duration::s(12));
      EXPECT_LE(f.at, sim::Duration::s(13));
      EXPECT_LE(*f.duration, sim::Duration::s(2));
    }
  }
}

TEST(FuzzFaults, OutputIsIndependentOfJobsAndResumes) {
  auto plan = fuzz_plan("fuzz", 6);
  TempDir tmp;
  std::string one = run_to(plan, tmp / "j1.csv", 1);
  std::string two = run_to(plan, tmp / "j2.csv", 2);
  EXPECT_EQ(one, two);
  EXPECT_EQ(count_lines(one), 4);
  // Killed mid-row: the resume recomputes the rest only and ends with the same bytes.
  size_t cut = one.find('\n', one.find('\n') + 1) + 1;  // header + point 0
  spit(tmp / "part.csv", one.substr(0, cut + 7));
  sw::RunConfig cfg;
  cfg.jobs = 2;
  cfg.quiet = true;
  cfg.outputs = {tmp / "part.csv"};
  sw::RunReport rep;
  ASSERT_EQ(sw::run_sweep(plan, cfg, &rep), 0);
  EXPECT_EQ(rep.points_skipped, 1u);
  EXPECT_EQ(rep.points_done, 2u);
  EXPECT_EQ(slurp(tmp / "part.csv"), one);
  // A scenario-faults sweep of the same grid refuses to resume into it.
  auto sc = fuzz_plan("scenario", 6);
  EXPECT_EQ(sw::run_sweep(sc, cfg), 2);
  EXPECT_EQ(slurp(tmp / "part.csv"), one);
}

TEST(FuzzFaults, BadSettingsNameTheirSource) {
  sw::Spec s;
  s.scenario_path = kData + "/ifdown-small.json";
  s.axes.push_back(sw::parse_axis("meta.localTimer=1s,2s"));
  s.faults = "fuz";
  EXPECT_NE(config_error(s).find("--faults: expected \"scenario\" or \"fuzz\", got \"fuz\""),
            std::string::npos)
      << config_error(s);
  s.faults = "scenario";
  s.fuzz.max_faults = 2;
  s.fuzz.source["maxFaults"] = "--max-faults";
  EXPECT_NE(config_error(s).find("--max-faults: a fuzz generator setting needs --faults fuzz"),
            std::string::npos)
      << config_error(s);
  s.faults = "fuzz";
  s.fuzz.hosts = {"node9"};
  EXPECT_NE(config_error(s).find("--hosts: no host \"node9\""), std::string::npos)
      << config_error(s);
  s.fuzz.hosts.clear();
  s.fuzz.heal_by = sim::Duration::s(31);
  EXPECT_NE(config_error(s).find("--heal-by: 31s is after the end of the run (30s)"),
            std::string::npos)
      << config_error(s);
  s.fuzz.heal_by.reset();
  // Points must keep what the schedules name.
  s.axes.push_back(sw::parse_axis("zk.peers.2.host=node3,node1"));
  EXPECT_NE(config_error(s).find("--faults: fuzz: point 1 (meta.localTimer=1s;zk.peers.2.host="
                                 "node1) changes what fault schedules name"),
            std::string::npos)
      << config_error(s);
  for (auto [bad, flag] : std::vector<std::pair<std::function<void()>, std::string>>{
           {[] { sw::parse_max_faults(0, "--max-faults"); }, "--max-faults: "},
           {[] { sw::parse_max_faults(101, "--max-faults"); }, "--max-faults: "},
           {[] { sw::parse_kinds({"ifdonw"}, "--kinds"); }, "--kinds: unknown fault kind"},
           {[] { sw::parse_kinds({""}, "--kinds"); }, "--kinds: "},
           {[] {
              sw::FuzzSpec f;
              sw::parse_window("10s", "--window", f);
            },
            "--window: expected FROM..TO"},
           {[] {
              sw::FuzzSpec f;
              sw::parse_window("20s..10s", "--window", f);
            },
            "--window: TO < FROM"},
           {[] { sw::parse_fuzz_duration("soon", "--heal-by"); }, "--heal-by: "}}) {
    try {
      bad();
      ADD_FAILURE() << "no error for " << flag;
    } catch (const sim::ConfigError& e) {
      EXPECT_EQ(std::string(e.what()).rfind(flag, 0), 0u) << e.what();
    }
  }
}

TEST(FuzzFaults, SpecFile) {
  TempDir tmp;
  fs::copy_file(kData + "/ifdown-small.json", tmp / "base.json");
  spit(tmp / "spec.json",
       R"({"scenario": "base.json", "grid": ["meta.localTimer=1s,2s"], "runs": 3, "seed": 4,
  "faults": "fuzz",
  "fuzz": {"maxFaults": 2, "kinds": "ifdown,pause", "hosts": ["node1", "node2"],
           "window": "12s..14s", "healBy": "25s", "maxDuration": "5s", "metaPauses": false,
           "fixedSeed": true}})");
  auto s = sw::load_spec(tmp / "spec.json");
  EXPECT_EQ(s.faults, "fuzz");
  EXPECT_EQ(s.fuzz.max_faults, 2);
  EXPECT_EQ(s.fuzz.kinds, (std::vector<std::string>{"ifdown", "pause"}));
  EXPECT_EQ(s.fuzz.hosts, (std::vector<std::string>{"node1", "node2"}));
  EXPECT_EQ(s.fuzz.window_from, sim::Duration::s(12));
  EXPECT_EQ(s.fuzz.window_to, sim::Duration::s(14));
  EXPECT_EQ(s.fuzz.heal_by, sim::Duration::s(25));
  EXPECT_EQ(s.fuzz.max_duration, sim::Duration::s(5));
  EXPECT_EQ(s.fuzz.meta_pauses, false);
  EXPECT_EQ(s.fuzz.fixed_seed, true);
  auto plan = sw::make_plan(s);
  EXPECT_EQ(plan.gen.max_faults, 2);
  EXPECT_FALSE(plan.gen.vary_seed);
  EXPECT_FALSE(plan.gen.meta_pauses);
  for (int i = 0; i < 20; ++i) {
    auto sch = sw::fuzz_schedule(plan, i);
    EXPECT_EQ(sch.seed, 7u);  // the scenario's
    for (const auto& f : sch.faults) {
      EXPECT_TRUE(f.kind == "ifdown" || f.kind == "pause") << f.kind;
      if (f.kind == "pause") {
        EXPECT_EQ(f.target.rfind("zk:", 0), 0u) << f.target;
      }
    }
  }
  auto bad = [&](const std::string& fuzz, const std::string& faults = "fuzz") {
    spit(tmp / "bad.json",
         R"({"scenario": "base.json", "grid": ["meta.localTimer=1s"], "faults": ")" + faults +
             R"(", "fuzz": )" + fuzz + "}");
    try {
      sw::make_plan(sw::load_spec(tmp / "bad.json"));
    } catch (const sim::ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  std::string b = tmp / "bad.json";
  EXPECT_EQ(bad(R"({"maxFaults": 0})").rfind(b + ": fuzz.maxFaults: ", 0), 0u)
      << bad(R"({"maxFaults": 0})");
  EXPECT_EQ(
      bad(R"({"kinds": ["crash", "flood"]})").rfind(b + ": fuzz.kinds: unknown fault kind", 0), 0u);
  EXPECT_EQ(bad(R"({"maxFault": 2})").rfind(b + ": fuzz.maxFault: unknown key", 0), 0u);
  EXPECT_EQ(bad(R"({"window": "12s"})").rfind(b + ": fuzz.window: expected FROM..TO", 0), 0u);
  EXPECT_EQ(bad(R"({"hosts": ["node7"]})").rfind(b + ": fuzz.hosts: no host \"node7\"", 0), 0u)
      << bad(R"({"hosts": ["node7"]})");
  EXPECT_EQ(bad(R"({"metaPauses": "no"})").rfind(b + ": fuzz.metaPauses: expected true", 0), 0u);
  EXPECT_EQ(bad(R"({"maxFaults": 2})", "scenario")
                .rfind(b + ": fuzz.maxFaults: a fuzz generator setting needs --faults fuzz", 0),
            0u)
      << bad(R"({"maxFaults": 2})", "scenario");
  EXPECT_EQ(bad("[]").rfind(b + ": fuzz: expected an object", 0), 0u);
}
