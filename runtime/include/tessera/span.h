/// @file
/// tessera::Span<T>: a pointer and a length, the public API's view of caller memory. C++17 has no
/// std::span; under C++20 a Span is a borrowed contiguous range, so it converts to and from std::span and
/// C++20 code passes and receives std::span as before.
#pragma once

#include <cstddef>
#include <type_traits>
#include <utility>

#if __cplusplus >= 202002L && __has_include(<span>)
#include <ranges>
#define TESSERA_HAS_STD_SPAN 1
#else
#define TESSERA_HAS_STD_SPAN 0
#endif

namespace tessera {

/// A non-owning view of `size()` contiguous elements of type `T` (like std::span<T>).
template <class T>
class Span {
 public:
  using element_type = T;                  ///< the element type, with its const
  using value_type = std::remove_cv_t<T>;  ///< the element type without const
  using size_type = std::size_t;           ///< sizes and indices
  using iterator = T*;                     ///< a pointer into the elements

  /// An empty view.
  constexpr Span() noexcept = default;
  /// `size` elements starting at `data`.
  constexpr Span(T* data, size_type size) noexcept : data_(data), size_(size) {}
  /// A C array.
  template <std::size_t N>
  constexpr Span(T (&array)[N]) noexcept : data_(array), size_(N) {}  // NOLINT: implicit by design
  /// Any contiguous container with data() and size(): std::vector, std::array, std::span, another Span.
  template <
      class Container,
      class = std::enable_if_t<
          !std::is_array_v<std::remove_reference_t<Container>> &&
          std::is_convertible_v<std::remove_pointer_t<decltype(std::declval<Container&>().data())> (*)[], T (*)[]>>>
  constexpr Span(Container&& c) noexcept : data_(c.data()), size_(c.size()) {}  // NOLINT: implicit

  /// The first element (nullptr when empty and default-constructed).
  constexpr T* data() const noexcept { return data_; }
  /// The number of elements.
  constexpr size_type size() const noexcept { return size_; }
  /// The number of bytes the elements occupy.
  constexpr size_type size_bytes() const noexcept { return size_ * sizeof(T); }
  /// True when the view has no element.
  constexpr bool empty() const noexcept { return size_ == 0; }
  /// Element `i` (not checked: `i` < size()).
  constexpr T& operator[](size_type i) const noexcept { return data_[i]; }
  /// Iterators over the elements.
  constexpr T* begin() const noexcept { return data_; }
  /// One past the last element.
  constexpr T* end() const noexcept { return data_ + size_; }
  /// `count` elements from `offset` (both must lie inside the view).
  constexpr Span subspan(size_type offset, size_type count) const noexcept { return {data_ + offset, count}; }

 private:
  T* data_ = nullptr;
  size_type size_ = 0;
};

}  // namespace tessera

#if TESSERA_HAS_STD_SPAN
/// A Span never owns its elements: iterators taken from a temporary Span stay valid.
template <class T>
inline constexpr bool std::ranges::enable_borrowed_range<tessera::Span<T>> = true;
#endif
