/* TESSERA_API marks the public API: with -DBUILD_SHARED_LIBS=ON libtessera is compiled with hidden
 * symbols (-fvisibility=hidden) and exports only what carries this macro. Included by every public
 * header; C and C++. */
#ifndef TESSERA_EXPORT_H_
#define TESSERA_EXPORT_H_

#if defined(_WIN32)
#if defined(TESSERA_BUILDING_SHARED)
#define TESSERA_API __declspec(dllexport)
#elif defined(TESSERA_SHARED)
#define TESSERA_API __declspec(dllimport)
#else
#define TESSERA_API
#endif
#elif (defined(__GNUC__) || defined(__clang__)) && defined(__cplusplus)
/* The attribute form, so that it may follow [[nodiscard]] in a class head. */
#define TESSERA_API [[gnu::visibility("default")]]
#elif defined(__GNUC__) || defined(__clang__)
#define TESSERA_API __attribute__((visibility("default")))
#else
#define TESSERA_API
#endif

#endif /* TESSERA_EXPORT_H_ */
