#ifndef PARLEY_SERVICES_RUNTIME_SESSION_LRU_LIST_H_
#define PARLEY_SERVICES_RUNTIME_SESSION_LRU_LIST_H_

namespace parley::session {

// A link of an intrusive LruList; elements derive from it.
struct LruNode {
  LruNode* prev = nullptr;
  LruNode* next = nullptr;
};

// An intrusive doubly linked list from most to least recently used. Owns no
// element; not thread-safe.
class LruList {
 public:
  LruList() = default;
  LruList(const LruList&) = delete;
  LruList& operator=(const LruList&) = delete;

  // The least recently used element, or null when empty.
  LruNode* back() const { return tail_; }
  // The next more recently used element than `node`, or null.
  static LruNode* newer(const LruNode* node) { return node->prev; }

  // Adds `node` (not in any list) as the most recently used.
  void PushFront(LruNode* node) {
    node->prev = nullptr;
    node->next = head_;
    if (head_ != nullptr) head_->prev = node;
    head_ = node;
    if (tail_ == nullptr) tail_ = node;
  }

  // Takes `node` (in this list) out.
  void Remove(LruNode* node) {
    (node->prev != nullptr ? node->prev->next : head_) = node->next;
    (node->next != nullptr ? node->next->prev : tail_) = node->prev;
    node->prev = node->next = nullptr;
  }

  // Marks `node` (in this list) as the most recently used.
  void MoveToFront(LruNode* node) {
    if (node == head_) return;
    Remove(node);
    PushFront(node);
  }

 private:
  LruNode* head_ = nullptr;
  LruNode* tail_ = nullptr;
};

}  // namespace parley::session

#endif  // PARLEY_SERVICES_RUNTIME_SESSION_LRU_LIST_H_
