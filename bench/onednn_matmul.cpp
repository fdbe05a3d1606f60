//===- onednn_matmul.cpp - oneDNN's f32 matmul, timed like Anvil's --------===//
//
// The oneDNN side of bench/run.py: for each size M,N,K on the command line,
// creates a oneDNN f32 matmul primitive on the CPU engine, runs it a few
// times to warm up, then N times, and prints "M N K median_ms min_ms" per size.
// Threads follow OMP_NUM_THREADS (oneDNN's OpenMP runtime), as Anvil's
// benchmark sets it.
//
//===----------------------------------------------------------------------===//

#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

int main(int argc, char **argv) {
  if (argc < 5 || (argc - 2) % 3 != 0) {
    std::fprintf(stderr, "usage: %s RUNS M N K [M N K ...]\n", argv[0]);
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
    dnnl::matmul::desc desc(a, b, c); // the oneDNN 2.x API
    dnnl::matmul::primitive_desc pd(desc, engine);
    dnnl::matmul matmul(pd);
    std::vector<float> av(m * k, 1.0f), bv(k * n, 1.0f), cv(m * n);
    dnnl::memory am(a, engine, av.data()), bm(b, engine, bv.data()),
        cm(c, engine, cv.data());
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
