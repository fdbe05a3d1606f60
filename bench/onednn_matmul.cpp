//===- onednn_matmul.cpp - oneDNN's f32 matmul, timed like Anvil's --------===//
//
// The oneDNN side of bench/run.py: for each size M,N,K on the command line,
// creates a oneDNN f32 matmul primitive on the CPU engine, runs it a few
// times to warm up, then N times, and prints "M N K median_ms min_ms" per size.
// Threads follow OMP_NUM_THREADS (oneDNN's OpenMP runtime), as Anvil's
// benchmark sets it. With --int8 first, the matmul is u8 x s8 -> s32 instead,
// its weights reordered once into the layout oneDNN picks (as Anvil packs
// constant int8 weights at compile time): the issue-11 comparison.
//
//===----------------------------------------------------------------------===//

#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

int main(int argc, char **argv) {
  bool int8 = argc > 1 && std::string(argv[1]) == "--int8";
  if (int8) {
    ++argv;
    --argc;
  }
  if (argc < 5 || (argc - 2) % 3 != 0) {
    std::fprintf(stderr, "usage: %s [--int8] RUNS M N K [M N K ...]\n",
                 argv[0]);
    return 2;
  }
  int runs = std::atoi(argv[1]);
  dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  dnnl::stream stream(engine);
  using tag = dnnl::memory::format_tag;
  using dt = dnnl::memory::data_type;
  for (int i = 2; i + 2 < argc; i += 3) {
    dnnl::memory::dim m = std::atol(argv[i]), n = std::atol(argv[i + 1]),
                      k = std::atol(argv[i + 2]);
    dnnl::memory::desc a({m, k}, dt::f32, tag::ab), b({k, n}, dt::f32, tag::ab),
        c({m, n}, dt::f32, tag::ab);
    if (int8) {
      a = dnnl::memory::desc({m, k}, dt::u8, tag::ab);
      b = dnnl::memory::desc({k, n}, dt::s8, tag::any);
      c = dnnl::memory::desc({m, n}, dt::s32, tag::ab);
    }
    dnnl::matmul::desc desc(a, b, c); // the oneDNN 2.x API
    dnnl::matmul::primitive_desc pd(desc, engine);
    dnnl::matmul matmul(pd);
    // 4 bytes per element covers every type; all ones.
    std::vector<float> av(m * k, 1.0f), bv(k * n, 1.0f), cv(m * n);
    if (int8) {
      std::fill(av.begin(), av.end(), 0.0f);
      std::fill(bv.begin(), bv.end(), 0.0f);
      std::fill_n(reinterpret_cast<char *>(av.data()), m * k, 1);
    }
    dnnl::memory am(a, engine, av.data()), bm(pd.weights_desc(), engine),
        cm(c, engine, cv.data());
    if (int8) {
      // The plain s8 weights (all ones) reordered once into oneDNN's layout.
      std::vector<signed char> plain(k * n, 1);
      dnnl::memory pm({{k, n}, dt::s8, tag::ab}, engine, plain.data());
      dnnl::reorder(pm, bm).execute(stream, pm, bm);
      stream.wait();
    } else {
      bm = dnnl::memory(b, engine, bv.data());
    }
    auto run = [&] {
      matmul.execute(
          stream,
          {{DNNL_ARG_SRC, am}, {DNNL_ARG_WEIGHTS, bm}, {DNNL_ARG_DST, cm}});
      stream.wait();
    };
    for (int w = 0; w < 3; ++w)
      run();
    std::vector<double> ms;
    for (int r = 0; r < runs; ++r) {
      auto start = std::chrono::steady_clock::now();
      run();
      ms.push_back(std::chrono::duration<double, std::milli>(
                       std::chrono::steady_clock::now() - start)
                       .count());
    }
    std::sort(ms.begin(), ms.end());
    std::printf("%ld %ld %ld %.6f %.6f\n", static_cast<long>(m),
                static_cast<long>(n), static_cast<long>(k), ms[ms.size() / 2],
                ms.front());
  }
  return 0;
}
