#ifndef PARLEY_SERVICES_COMMON_TESTING_ALLOCATION_COUNTER_H_
#define PARLEY_SERVICES_COMMON_TESTING_ALLOCATION_COUNTER_H_

namespace parley::testing {

// Heap allocations made so far by the test binary that links the
// allocation_counter library (it replaces the global operator new and
// delete). Tests compare it before and after the code under test.
long AllocationCount();

}  // namespace parley::testing

#endif  // PARLEY_SERVICES_COMMON_TESTING_ALLOCATION_COUNTER_H_
