// Copyright (c) autoreject_cpp developers. SPDX-License-Identifier: BSD-3-Clause
// The CUDA backend: device loops over the same inline functions the CPU backends run
// (include/autoreject/kernels, include/autoreject/algorithms), one thread per independent
// row, column or task, and the host side that moves the data (see cuda_backend.hpp).
// Built with --fmad=false, IEEE division and square root and no flush to zero, so each
// thread performs the CPU's operations in the CPU's order and gets the same bits.
#include "cuda/cuda_backend.hpp"

#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "autoreject/algorithms/ransac.hpp"
#include "autoreject/algorithms/repair.hpp"
#include "autoreject/algorithms/vote.hpp"
#include "autoreject/errors.hpp"
#include "autoreject/kernels/kept_means.hpp"
#include "autoreject/kernels/median.hpp"
#include "autoreject/kernels/prefix_sums.hpp"
#include "autoreject/kernels/ptp.hpp"
#include "autoreject/kernels/sum.hpp"

namespace autoreject {
namespace cuda {
namespace {

constexpr int kThreads = 256;           // threads per block
constexpr int kMaxBlocks = 65535;       // blocks per launch (the loops stride over the rest)
constexpr std::size_t kMaxLevels = 64;  // pairwise_rows' levels for any size_t count

// ---- errors ---------------------------------------------------------------------------

// a failed device allocation: the chunked loops retry it with half the work
struct OutOfMemory : std::runtime_error {
    using std::runtime_error::runtime_error;
};

std::string bytes_text(std::size_t bytes) {
    return std::to_string(bytes) + " bytes (" + std::to_string(bytes >> 20) + " MiB)";
}

// Throws for any error: OutOfMemory for a failed allocation, std::runtime_error otherwise.
void check(cudaError_t err, const std::string& what) {
    if (err == cudaSuccess) {
        return;
    }
    (void)cudaGetLastError();  // clear the error when it is not sticky
    const std::string msg = "CUDA backend: " + what + " failed: " + cudaGetErrorName(err) + " (" +
                            cudaGetErrorString(err) + ")";
    if (err == cudaErrorMemoryAllocation) {
        throw OutOfMemory(msg);
    }
    throw std::runtime_error(msg);
}

// after a launch: the launch's own error, then the kernel's (synchronously)
void check_launch(const char* kernel) {
    check(cudaGetLastError(), std::string("launching ") + kernel);
    check(cudaDeviceSynchronize(), std::string("running ") + kernel);
}

int blocks_for(std::size_t n) {
    const std::size_t blocks = (n + kThreads - 1) / kThreads;
    return static_cast<int>(std::min<std::size_t>(std::max<std::size_t>(blocks, 1), kMaxBlocks));
}

// ---- device memory ------------------------------------------------------------------

template <class T>
class DeviceBuffer {
  public:
    DeviceBuffer(std::size_t n, const char* name) {
        if (n > 0) {
            void* p = nullptr;
            check(cudaMalloc(&p, n * sizeof(T)),
                  std::string("cudaMalloc of ") + name + ", " + bytes_text(n * sizeof(T)));
            ptr_ = static_cast<T*>(p);
        }
    }
    DeviceBuffer(const T* host, std::size_t n, const char* name) : DeviceBuffer(n, name) {
        upload(host, n, name);
    }
    DeviceBuffer(const DeviceBuffer&) = delete;
    DeviceBuffer& operator=(const DeviceBuffer&) = delete;
    ~DeviceBuffer() {
        if (ptr_ != nullptr) {
            (void)cudaFree(ptr_);  // nothing to report from a destructor
        }
    }

    T* get() const { return ptr_; }

    void upload(const T* host, std::size_t n, const char* name) {
        if (n > 0) {
            check(cudaMemcpy(ptr_, host, n * sizeof(T), cudaMemcpyHostToDevice),
                  std::string("copying ") + name + " to the device, " + bytes_text(n * sizeof(T)));
        }
    }
    void download(T* host, std::size_t n, const char* name) const {
        if (n > 0) {
            check(
                cudaMemcpy(host, ptr_, n * sizeof(T), cudaMemcpyDeviceToHost),
                std::string("copying ") + name + " from the device, " + bytes_text(n * sizeof(T)));
        }
    }

  private:
    T* ptr_ = nullptr;
};

// ---- arrays kept on the device (DeviceResidency) ------------------------------------

struct Resident {
    std::size_t bytes;
    void* device;
};

// host start address -> its device copy; guarded by resident_mutex()
std::map<std::uintptr_t, Resident>& resident_map() {
    static std::map<std::uintptr_t, Resident> map;
    return map;
}
std::mutex& resident_mutex() {
    static std::mutex mutex;
    return mutex;
}

// The device copy of host[0, n) when it lies inside one registered array, else nullptr.
template <class T>
const T* find_resident(const T* host, std::size_t n) {
    if (host == nullptr || n == 0) {
        return nullptr;
    }
    const auto at = reinterpret_cast<std::uintptr_t>(host);
    const std::size_t bytes = n * sizeof(T);
    std::lock_guard<std::mutex> lock(resident_mutex());
    const auto& map = resident_map();
    auto it = map.upper_bound(at);
    if (it == map.begin()) {
        return nullptr;
    }
    --it;
    const std::size_t offset = at - it->first;
    if (offset > it->second.bytes || bytes > it->second.bytes - offset) {
        return nullptr;
    }
    return reinterpret_cast<const T*>(static_cast<const char*>(it->second.device) + offset);
}

// A kernel input on the device: the registered copy when there is one, else a copy
// made now (freed with this object).
template <class T>
class DeviceInput {
  public:
    DeviceInput(const T* host, std::size_t n, const char* name) : ptr_(find_resident(host, n)) {
        if (ptr_ == nullptr && n > 0) {
            owned_.emplace(host, n, name);
            ptr_ = owned_->get();
        }
    }
    const T* get() const { return ptr_; }

  private:
    const T* ptr_;
    std::optional<DeviceBuffer<T>> owned_;
};

// The bytes a call may plan for: 90% of the free device memory, capped by
// AUTOREJECT_CUDA_MEMORY_LIMIT when it is set (a positive integer).
std::size_t memory_budget() {
    std::size_t free = 0;
    std::size_t total = 0;
    check(cudaMemGetInfo(&free, &total), "cudaMemGetInfo");
    std::size_t budget = free / 10 * 9;
    if (const char* env = std::getenv("AUTOREJECT_CUDA_MEMORY_LIMIT")) {
        char* end = nullptr;
        const unsigned long long limit = std::strtoull(env, &end, 10);
        if (end == env || *end != '\0' || limit == 0) {
            throw std::invalid_argument(std::string("AUTOREJECT_CUDA_MEMORY_LIMIT = '") + env +
                                        "' is not a positive number of bytes; unset it or pass "
                                        "e.g. 1000000");
        }
        budget = std::min<std::size_t>(budget, static_cast<std::size_t>(limit));
    }
    return budget;
}

// Runs run(begin, count) over [0, n_units) in chunks of units of `unit_bytes` device
// bytes each, as many as the budget holds; a chunk whose allocation fails is retried
// with half as many units, down to one unit, then the error names the sizes.
template <class Run>
void chunked(const char* kernel, std::size_t n_units, std::size_t unit_bytes, Run&& run) {
    if (n_units == 0) {
        return;
    }
    const std::size_t budget = memory_budget();
    std::size_t chunk =
        std::min(n_units, std::max<std::size_t>(1, budget / std::max<std::size_t>(unit_bytes, 1)));
    std::size_t begin = 0;
    while (begin < n_units) {
        const std::size_t count = std::min(chunk, n_units - begin);
        try {
            run(begin, count);
        } catch (const OutOfMemory& e) {
            if (count <= 1) {
                throw std::runtime_error(
                    std::string("CUDA backend: ") + kernel +
                    ": the device has no memory left for one unit of work (" +
                    bytes_text(unit_bytes) + " per unit, " + std::to_string(n_units) +
                    " units, budget " + bytes_text(budget) + "): " + e.what() +
                    "; free device memory or use the 'openmp' or 'scalar' backend");
            }
            chunk = count / 2;
            continue;
        }
        begin += count;
    }
}

// ---- device loops -----------------------------------------------------------------------

// kernel<<<blocks, threads>>>(args...) under nvcc; the emulated runtime runs the grid on
// the host (src/cuda/emulation)
#if defined(AUTOREJECT_CUDA_EMULATION)
#define AUTOREJECT_LAUNCH(kernel, blocks, threads, ...) \
    ::autoreject_cuda_emulation::launch((blocks), (threads), [&] { kernel(__VA_ARGS__); })
#else
#define AUTOREJECT_LAUNCH(kernel, blocks, threads, ...) kernel<<<(blocks), (threads)>>>(__VA_ARGS__)
#endif

#define AUTOREJECT_GRID_LOOP(i, n)                                                                 \
    for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < (n); \
         i += static_cast<std::size_t>(blockDim.x) * gridDim.x)

// one thread per row
template <class T>
__global__ void ptp_kernel(const T* x, std::size_t n_rows, std::size_t n_cols, T* out) {
    AUTOREJECT_GRID_LOOP(i, n_rows) {
        out[i] = kernels::ptp_row(x + i * n_cols, static_cast<std::ptrdiff_t>(n_cols));
    }
}

// one thread per column of `packed` (n_sel, width): its median by selection in `scratch`
template <class T>
__global__ void median_kernel(T* packed, std::size_t n_sel, std::size_t width, T* scratch, T* out) {
    AUTOREJECT_GRID_LOOP(c, width) {
        kernels::column_medians(packed + c, n_sel, width, std::size_t(1), scratch + c * n_sel,
                                out + c);
    }
}

// one thread per column of `packed` (n_used, width), rows summed in `order`
template <class T>
__global__ void prefix_kernel(const T* packed, std::size_t width, const long long* order,
                              const long long* cuts, std::size_t n_cuts, T* out) {
    AUTOREJECT_GRID_LOOP(c, width) {
        T rest[1];
        T r[8];
        T spill[kMaxLevels];
        kernels::prefix_sums_columns(packed, width, order, cuts, n_cuts, c, std::size_t(1), out + c,
                                     width, rest, r, spill);
    }
}

// one thread per (bound, fold, sample) of bounds [c0, c0 + n_c): means (n_c, n_folds, n_times)
template <class T>
__global__ void kept_means_kernel(const T* data, const long long* train_idx, const T* train_keys,
                                  const T* bounds, KeptMeansShape s, std::size_t c0,
                                  std::size_t n_c, T* means) {
    AUTOREJECT_GRID_LOOP(i, n_c * s.n_folds * s.n_times) {
        const std::size_t t = i % s.n_times;
        const std::size_t f = (i / s.n_times) % s.n_folds;
        const std::size_t c = i / (s.n_times * s.n_folds);
        std::size_t count = 0;
        kernels::kept_means_columns(data, s.n_times, t, std::size_t(1), train_idx + f * s.n_train,
                                    train_keys + f * s.n_train, s.n_train,
                                    bounds + (c0 + c) * s.n_folds + f, s.n_folds, std::size_t(1),
                                    means + i, &count);
    }
}

// one thread per (bound, fold): -rmse against the fold's median; the means are its scratch
template <class T>
__global__ void scores_kernel(T* means, const T* medians, KeptMeansShape s, std::size_t n_c,
                              T* out) {
    AUTOREJECT_GRID_LOOP(i, n_c * s.n_folds) {
        const std::size_t f = i % s.n_folds;
        T* mean = means + i * s.n_times;
        out[i] = -kernels::rmse(medians + f * s.n_times, mean, s.n_times, mean);
    }
}

// one thread per (epoch, channel): the predictions of each sample by every resample, their
// median, and the correlation summed in time order; `scratch` holds n_resample per thread
template <class T>
__global__ void ransac_kernel(const T* data, const long long* cols, const long long* counts,
                              const T* weights, RansacShape s, std::size_t n_e, T* scratch,
                              T* out) {
    AUTOREJECT_GRID_LOOP(i, n_e * s.n_channels) {
        const std::size_t c = i % s.n_channels;
        const T* epoch = data + (i / s.n_channels) * s.n_channels * s.n_times;
        const T* xc = epoch + c * s.n_times;
        T* pred = scratch + i * s.n_resample;
        kernels::Correlation<T> corr;
        for (std::size_t t = 0; t < s.n_times; ++t) {
            for (std::size_t r = 0; r < s.n_resample; ++r) {
                kernels::sparse_prediction(epoch, s.n_times, cols + r * s.k_max,
                                           weights + (r * s.n_channels + c) * s.k_max, counts[r], t,
                                           std::size_t(1), pred + r);
            }
            corr.add(xc[t],
                     kernels::median_inplace(pred, static_cast<std::ptrdiff_t>(s.n_resample)));
        }
        out[i] = corr.value();
    }
}

// one thread per epoch
template <class T>
__global__ void vote_kernel(const T* deltas, std::size_t n_epochs, std::size_t n_sensors,
                            const T* threshes, std::uint8_t* bad, std::int64_t* counts) {
    AUTOREJECT_GRID_LOOP(e, n_epochs) {
        counts[e] =
            kernels::vote_row(deltas + e * n_sensors, threshes, n_sensors, bad + e * n_sensors);
    }
}

// one thread per value of `packed` (n_sel, w): x's rows `rows`, columns [c0, c0 + w)
template <class T>
__global__ void gather_kernel(const T* x, std::size_t n_cols, const long long* rows,
                              std::size_t n_sel, std::size_t c0, std::size_t w, T* packed) {
    AUTOREJECT_GRID_LOOP(i, n_sel * w) {
        const auto row = static_cast<std::size_t>(rows[i / w]);
        packed[i] = x[row * n_cols + c0 + i % w];
    }
}

// one thread per row of `means` (n_means, n): its RMSE against `median`, `scratch` one
// row per thread
template <class T>
__global__ void rmse_kernel(const T* median, const T* means, std::size_t n_means, std::size_t n,
                            T* scratch, T* out) {
    AUTOREJECT_GRID_LOOP(i, n_means) {
        out[i] = kernels::rmse(median, means + i * n, n, scratch + i * n);
    }
}

// where one repair job's values lie in the packed buffers
struct RepairSlots {
    std::size_t rows;    // its `from` channels in `rows` (n_from, n_times)
    std::size_t matrix;  // its weights in `matrices` (n_to, n_from)
    std::size_t out;     // its repaired channels in `out` (n_to, n_times)
    std::size_t n_from;
    std::size_t n_to;
};

// one block per job, its threads over the job's repaired samples; `iota` = 0, 1, 2, ...
// (the job's rows are packed in `from` order)
__global__ void repair_kernel(const double* rows, const double* matrices, const RepairSlots* slots,
                              std::size_t n_jobs, std::size_t n_times, const long long* iota,
                              double* out) {
    for (std::size_t j = blockIdx.x; j < n_jobs; j += gridDim.x) {
        const RepairSlots s = slots[j];
        for (std::size_t i = threadIdx.x; i < s.n_to * n_times; i += blockDim.x) {
            const std::size_t b = i / n_times;
            const std::size_t t = i % n_times;
            kernels::interpolate_samples(rows + s.rows, n_times, iota, s.n_from,
                                         matrices + s.matrix + b * s.n_from, t, t + 1,
                                         out + s.out + i);
        }
    }
}

#undef AUTOREJECT_GRID_LOOP

// Rows rows[0, n) of a host array x (n_rows, n_cols), a block of columns at a time,
// into a device buffer (n, w): gathered on the device when x is resident
// (DeviceResidency), else packed on the host and copied up.
template <class T>
class RowGather {
  public:
    RowGather(const T* x, std::size_t n_rows, std::size_t n_cols, const long long* rows,
              std::size_t n, const char* rows_name)
        : x_(x),
          n_cols_(n_cols),
          rows_(rows),
          n_(n),
          resident_(find_resident(x, n_rows * n_cols)),
          d_rows_(resident_ != nullptr ? rows : nullptr, resident_ != nullptr ? n : 0, rows_name) {}

    // columns [c0, c0 + w) of the rows into dst
    void into(DeviceBuffer<T>& dst, std::size_t c0, std::size_t w, const char* name) {
        if (resident_ != nullptr) {
            AUTOREJECT_LAUNCH(gather_kernel, blocks_for(n_ * w), kThreads, resident_, n_cols_,
                              d_rows_.get(), n_, c0, w, dst.get());
            check_launch("gather_kernel");
            return;
        }
        packed_.resize(n_ * w);
        for (std::size_t i = 0; i < n_; ++i) {
            std::memcpy(packed_.data() + i * w,
                        x_ + static_cast<std::size_t>(rows_[i]) * n_cols_ + c0, w * sizeof(T));
        }
        dst.upload(packed_.data(), n_ * w, name);
    }

  private:
    const T* x_;
    std::size_t n_cols_;
    const long long* rows_;
    std::size_t n_;
    const T* resident_;
    DeviceBuffer<long long> d_rows_;
    std::vector<T> packed_;
};

// the threshold scores of bounds [0, n_bounds) into out (n_bounds, n_folds)
template <class T>
void scores_or_means(const T* data, const long long* train_idx, const T* train_keys,
                     const T* bounds, const T* medians, const KeptMeansShape& s, T* out,
                     bool scores) {
    const DeviceInput<T> d_data(data, s.n_rows * s.n_times, "data");
    DeviceBuffer<long long> d_idx(train_idx, s.n_folds * s.n_train, "train_idx");
    DeviceBuffer<T> d_keys(train_keys, s.n_folds * s.n_train, "train_keys");
    DeviceBuffer<T> d_bounds(bounds, s.n_bounds * s.n_folds, "bounds");
    DeviceBuffer<T> d_medians(medians, scores ? s.n_folds * s.n_times : 0, "medians");
    const std::size_t unit = (s.n_folds * s.n_times + (scores ? s.n_folds : 0)) * sizeof(T);
    chunked(scores ? "threshold_scores" : "kept_means", s.n_bounds, unit,
            [&](std::size_t c0, std::size_t n_c) {
                DeviceBuffer<T> d_means(n_c * s.n_folds * s.n_times, "the kept means");
                DeviceBuffer<T> d_scores(scores ? n_c * s.n_folds : 0, "the scores");
                AUTOREJECT_LAUNCH(kept_means_kernel, blocks_for(n_c * s.n_folds * s.n_times),
                                  kThreads, d_data.get(), d_idx.get(), d_keys.get(), d_bounds.get(),
                                  s, c0, n_c, d_means.get());
                check_launch("kept_means_kernel");
                if (!scores) {
                    d_means.download(out + c0 * s.n_folds * s.n_times, n_c * s.n_folds * s.n_times,
                                     "the kept means");
                    return;
                }
                AUTOREJECT_LAUNCH(scores_kernel, blocks_for(n_c * s.n_folds), kThreads,
                                  d_means.get(), d_medians.get(), s, n_c, d_scores.get());
                check_launch("scores_kernel");
                d_scores.download(out + c0 * s.n_folds, n_c * s.n_folds, "the scores");
            });
}

}  // namespace

// ---- entry points -----------------------------------------------------------------------

template <class T>
void ptp(const T* x, std::size_t n_rows, std::size_t n_cols, T* out) {
    require(n_cols > 0 || n_rows == 0,
            "ptp: each row must hold at least one value (n_cols = 0); a peak-to-peak amplitude "
            "of nothing is undefined");
    if (n_rows == 0) {
        return;
    }
    chunked("ptp", n_rows, (n_cols + 1) * sizeof(T), [&](std::size_t r0, std::size_t n) {
        const DeviceInput<T> d_x(x + r0 * n_cols, n * n_cols, "x");
        DeviceBuffer<T> d_out(n, "the amplitudes");
        AUTOREJECT_LAUNCH(ptp_kernel, blocks_for(n), kThreads, d_x.get(), n, n_cols, d_out.get());
        check_launch("ptp_kernel");
        d_out.download(out + r0, n, "the amplitudes");
    });
}

template <class T>
void median_rows(const T* x, std::size_t n_rows, std::size_t n_cols, const long long* rows,
                 std::size_t n_sel, T* out) {
    require(n_sel > 0, "median_rows: rows is empty; a median needs at least one row");
    require_indices(rows, n_sel, n_rows, "rows", "a row of x");
    RowGather<T> gather(x, n_rows, n_cols, rows, n_sel, "rows");
    chunked("median_rows", n_cols, (2 * n_sel + 1) * sizeof(T), [&](std::size_t c0, std::size_t w) {
        DeviceBuffer<T> d_packed(n_sel * w, "the selected rows");
        DeviceBuffer<T> d_scratch(n_sel * w, "the selection scratch");
        DeviceBuffer<T> d_out(w, "the medians");
        gather.into(d_packed, c0, w, "the selected rows");
        AUTOREJECT_LAUNCH(median_kernel, blocks_for(w), kThreads, d_packed.get(), n_sel, w,
                          d_scratch.get(), d_out.get());
        check_launch("median_kernel");
        d_out.download(out + c0, w, "the medians");
    });
}

template <class T>
void kept_means(const T* data, const long long* train_idx, const T* train_keys, const T* bounds,
                const KeptMeansShape& s, T* out) {
    detail::check_kept_shape(s, train_idx);
    scores_or_means<T>(data, train_idx, train_keys, bounds, nullptr, s, out, false);
}

template <class T>
void threshold_scores(const T* data, const long long* train_idx, const T* train_keys,
                      const T* bounds, const T* medians, const KeptMeansShape& s, T* out) {
    detail::check_kept_shape(s, train_idx);
    scores_or_means<T>(data, train_idx, train_keys, bounds, medians, s, out, true);
}

template <class T>
void threshold_losses(const T* data, const long long* train_idx, const T* train_keys,
                      const T* bounds, const T* medians, const KeptMeansShape& s, T* out) {
    std::vector<T> scores(s.n_bounds * s.n_folds);
    cuda::threshold_scores<T>(data, train_idx, train_keys, bounds, medians, s, scores.data());
    for (std::size_t c = 0; c < s.n_bounds; ++c) {
        out[c] = -kernels::numpy_mean(scores.data() + c * s.n_folds,
                                      static_cast<std::ptrdiff_t>(s.n_folds));
    }
}

template <class T>
void prefix_sums(const T* data, std::size_t n_rows, std::size_t n_cols, const long long* order,
                 std::size_t n_order, const long long* cuts, std::size_t n_cuts, T* out) {
    detail::check_prefix_sums(n_rows, order, n_order, cuts, n_cuts);
    const auto n_used = static_cast<std::size_t>(cuts[n_cuts - 1]);
    if (kernels::pairwise_rows_levels(static_cast<std::ptrdiff_t>(n_used)) > kMaxLevels) {
        throw std::invalid_argument("prefix_sums: " + std::to_string(n_used) +
                                    " rows are too many for the CUDA backend; use 'openmp'");
    }
    // the rows packed in summation order: the device's order is 0, 1, 2, ...
    std::vector<long long> iota(n_used);
    for (std::size_t i = 0; i < n_used; ++i) {
        iota[i] = static_cast<long long>(i);
    }
    DeviceBuffer<long long> d_order(iota.data(), n_used, "order");
    DeviceBuffer<long long> d_cuts(cuts, n_cuts, "cuts");
    RowGather<T> gather(data, n_rows, n_cols, order, n_used, "order");
    std::vector<T> chunk_out;
    chunked("prefix_sums", n_cols, (n_used + n_cuts) * sizeof(T),
            [&](std::size_t c0, std::size_t w) {
                DeviceBuffer<T> d_packed(n_used * w, "the ordered rows");
                DeviceBuffer<T> d_out(n_cuts * w, "the prefix sums");
                gather.into(d_packed, c0, w, "the ordered rows");
                AUTOREJECT_LAUNCH(prefix_kernel, blocks_for(w), kThreads, d_packed.get(), w,
                                  d_order.get(), d_cuts.get(), n_cuts, d_out.get());
                check_launch("prefix_kernel");
                chunk_out.resize(n_cuts * w);
                d_out.download(chunk_out.data(), n_cuts * w, "the prefix sums");
                for (std::size_t i = 0; i < n_cuts; ++i) {
                    std::memcpy(out + i * n_cols + c0, chunk_out.data() + i * w, w * sizeof(T));
                }
            });
}

template <class T>
void ransac_correlations(const T* data, const long long* cols, const long long* counts,
                         const T* weights, const RansacShape& s, T* out) {
    detail::check_ransac(cols, counts, s);
    DeviceBuffer<long long> d_cols(cols, s.n_resample * s.k_max, "cols");
    DeviceBuffer<long long> d_counts(counts, s.n_resample, "counts");
    DeviceBuffer<T> d_weights(weights, s.n_resample * s.n_channels * s.k_max, "weights");
    const std::size_t per_epoch = s.n_channels * s.n_times;
    const std::size_t unit = (per_epoch + s.n_channels * (s.n_resample + 1)) * sizeof(T);
    chunked("ransac_correlations", s.n_epochs, unit, [&](std::size_t e0, std::size_t n_e) {
        const DeviceInput<T> d_data(data + e0 * per_epoch, n_e * per_epoch, "data");
        DeviceBuffer<T> d_scratch(n_e * s.n_channels * s.n_resample, "the predictions");
        DeviceBuffer<T> d_out(n_e * s.n_channels, "the correlations");
        AUTOREJECT_LAUNCH(ransac_kernel, blocks_for(n_e * s.n_channels), kThreads, d_data.get(),
                          d_cols.get(), d_counts.get(), d_weights.get(), s, n_e, d_scratch.get(),
                          d_out.get());
        check_launch("ransac_kernel");
        d_out.download(out + e0 * s.n_channels, n_e * s.n_channels, "the correlations");
    });
}

template <class T>
void vote_bad_epochs(const T* deltas, std::size_t n_epochs, std::size_t n_sensors,
                     const T* threshes, std::uint8_t* bad, std::int64_t* counts) {
    if (n_epochs == 0) {
        return;
    }
    DeviceBuffer<T> d_threshes(threshes, n_sensors, "threshes");
    const std::size_t unit = n_sensors * (sizeof(T) + 1) + sizeof(std::int64_t);
    chunked("vote_bad_epochs", n_epochs, unit, [&](std::size_t e0, std::size_t n) {
        const DeviceInput<T> d_deltas(deltas + e0 * n_sensors, n * n_sensors, "deltas");
        DeviceBuffer<std::uint8_t> d_bad(n * n_sensors, "the bad flags");
        DeviceBuffer<std::int64_t> d_counts(n, "the counts");
        AUTOREJECT_LAUNCH(vote_kernel, blocks_for(n), kThreads, d_deltas.get(), n, n_sensors,
                          d_threshes.get(), d_bad.get(), d_counts.get());
        check_launch("vote_kernel");
        d_bad.download(bad + e0 * n_sensors, n * n_sensors, "the bad flags");
        d_counts.download(counts + e0, n, "the counts");
    });
}

template <class T>
void rmse_rows(const T* median, const T* means, std::size_t n_means, std::size_t n, T* out) {
    require(n > 0, "rmse_rows: median is empty; pass at least one value");
    if (n_means == 0) {
        return;
    }
    const DeviceInput<T> d_median(median, n, "median");
    chunked("rmse_rows", n_means, (2 * n + 1) * sizeof(T), [&](std::size_t r0, std::size_t rows) {
        const DeviceInput<T> d_means(means + r0 * n, rows * n, "means");
        DeviceBuffer<T> d_scratch(rows * n, "the squared differences");
        DeviceBuffer<T> d_out(rows, "the RMSEs");
        AUTOREJECT_LAUNCH(rmse_kernel, blocks_for(rows), kThreads, d_median.get(), d_means.get(),
                          rows, n, d_scratch.get(), d_out.get());
        check_launch("rmse_kernel");
        d_out.download(out + r0, rows, "the RMSEs");
    });
}

void repair_epochs(double* data, std::size_t n_epochs, std::size_t n_channels, std::size_t n_times,
                   const RepairJob* jobs, std::size_t n_jobs) {
    detail::check_repair_jobs(n_epochs, n_channels, jobs, n_jobs);
    if (n_jobs == 0 || n_times == 0) {
        return;
    }
    // every job is planned at the size of the largest
    std::size_t max_from = 0;
    std::size_t max_to = 0;
    for (std::size_t j = 0; j < n_jobs; ++j) {
        max_from = std::max(max_from, jobs[j].n_from);
        max_to = std::max(max_to, jobs[j].n_to);
    }
    std::vector<long long> iota(max_from);
    for (std::size_t g = 0; g < max_from; ++g) {
        iota[g] = static_cast<long long>(g);
    }
    DeviceBuffer<long long> d_iota(iota.data(), max_from, "the row indices");
    const std::size_t unit =
        ((max_from + max_to) * n_times + max_to * max_from) * sizeof(double) + sizeof(RepairSlots);
    std::vector<double> rows;
    std::vector<double> matrices;
    std::vector<double> out;
    std::vector<RepairSlots> slots;
    chunked("repair_epochs", n_jobs, unit, [&](std::size_t j0, std::size_t n) {
        rows.clear();
        matrices.clear();
        slots.clear();
        std::size_t n_out = 0;
        for (std::size_t j = j0; j < j0 + n; ++j) {
            const RepairJob& job = jobs[j];
            slots.push_back({rows.size(), matrices.size(), n_out, job.n_from, job.n_to});
            const double* epoch = data + job.epoch * n_channels * n_times;
            for (std::size_t g = 0; g < job.n_from; ++g) {
                const double* src = epoch + static_cast<std::size_t>(job.from[g]) * n_times;
                rows.insert(rows.end(), src, src + n_times);
            }
            matrices.insert(matrices.end(), job.matrix, job.matrix + job.n_to * job.n_from);
            n_out += job.n_to * n_times;
        }
        DeviceBuffer<double> d_rows(rows.data(), rows.size(), "the channels interpolated from");
        DeviceBuffer<double> d_matrices(matrices.data(), matrices.size(), "the matrices");
        DeviceBuffer<RepairSlots> d_slots(slots.data(), slots.size(), "the job offsets");
        DeviceBuffer<double> d_out(n_out, "the repaired channels");
        AUTOREJECT_LAUNCH(repair_kernel, static_cast<int>(std::min<std::size_t>(n, kMaxBlocks)),
                          kThreads, d_rows.get(), d_matrices.get(), d_slots.get(), n, n_times,
                          d_iota.get(), d_out.get());
        check_launch("repair_kernel");
        out.resize(n_out);
        d_out.download(out.data(), n_out, "the repaired channels");
        // the jobs' channels are disjoint (checked): written back in any order
        for (std::size_t j = j0; j < j0 + n; ++j) {
            const RepairJob& job = jobs[j];
            const RepairSlots& s = slots[j - j0];
            double* epoch = data + job.epoch * n_channels * n_times;
            for (std::size_t b = 0; b < job.n_to; ++b) {
                std::memcpy(epoch + static_cast<std::size_t>(job.to[b]) * n_times,
                            out.data() + s.out + b * n_times, n_times * sizeof(double));
            }
        }
    });
}

bool register_resident(const void* host, std::size_t bytes) {
    if (host == nullptr || bytes == 0) {
        return false;
    }
    const auto at = reinterpret_cast<std::uintptr_t>(host);
    std::lock_guard<std::mutex> lock(resident_mutex());
    auto& map = resident_map();
    // an overlap with a registered array: left as it is
    auto next = map.lower_bound(at);
    if (next != map.end() && next->first < at + bytes) {
        return false;
    }
    if (next != map.begin() && std::prev(next)->first + std::prev(next)->second.bytes > at) {
        return false;
    }
    void* device = nullptr;
    const cudaError_t err = cudaMalloc(&device, bytes);
    if (err == cudaErrorMemoryAllocation) {
        (void)cudaGetLastError();
        return false;  // no room: the kernels copy it per call, as without residency
    }
    check(err, "cudaMalloc of a resident array, " + bytes_text(bytes));
    const cudaError_t copied = cudaMemcpy(device, host, bytes, cudaMemcpyHostToDevice);
    if (copied != cudaSuccess) {
        (void)cudaFree(device);
        check(copied, "copying a resident array to the device, " + bytes_text(bytes));
    }
    map.emplace(at, Resident{bytes, device});
    return true;
}

void unregister_resident(const void* host) {
    std::lock_guard<std::mutex> lock(resident_mutex());
    auto& map = resident_map();
    const auto it = map.find(reinterpret_cast<std::uintptr_t>(host));
    if (it != map.end()) {
        (void)cudaFree(it->second.device);  // called from a destructor: nothing to report
        map.erase(it);
    }
}

// ---- the two precisions --------------------------------------------------------------

#define AUTOREJECT_CUDA_INSTANTIATE(T)                                                            \
    template void ptp<T>(const T*, std::size_t, std::size_t, T*);                                 \
    template void median_rows<T>(const T*, std::size_t, std::size_t, const long long*,            \
                                 std::size_t, T*);                                                \
    template void kept_means<T>(const T*, const long long*, const T*, const T*,                   \
                                const KeptMeansShape&, T*);                                       \
    template void threshold_scores<T>(const T*, const long long*, const T*, const T*, const T*,   \
                                      const KeptMeansShape&, T*);                                 \
    template void threshold_losses<T>(const T*, const long long*, const T*, const T*, const T*,   \
                                      const KeptMeansShape&, T*);                                 \
    template void prefix_sums<T>(const T*, std::size_t, std::size_t, const long long*,            \
                                 std::size_t, const long long*, std::size_t, T*);                 \
    template void ransac_correlations<T>(const T*, const long long*, const long long*, const T*,  \
                                         const RansacShape&, T*);                                 \
    template void vote_bad_epochs<T>(const T*, std::size_t, std::size_t, const T*, std::uint8_t*, \
                                     std::int64_t*);                                              \
    template void rmse_rows<T>(const T*, const T*, std::size_t, std::size_t, T*);
AUTOREJECT_CUDA_INSTANTIATE(double)
AUTOREJECT_CUDA_INSTANTIATE(float)
#undef AUTOREJECT_CUDA_INSTANTIATE

}  // namespace cuda
}  // namespace autoreject
