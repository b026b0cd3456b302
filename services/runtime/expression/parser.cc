#include "services/runtime/expression/parser.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/types/optional.h"
#include "services/runtime/expression/lexer.h"

namespace parley::expression::internal {
namespace {

using NodePtr = std::unique_ptr<Node>;

// Recursive descent, one method per precedence level (lowest first).
class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

  absl::StatusOr<NodePtr> Run() {
    if (Peek().kind == TokenKind::kEnd) {
      return CompileError(Peek().location, "the expression is empty");
    }
    absl::StatusOr<NodePtr> root = Or();
    if (!root.ok()) return root;
    if (Peek().kind != TokenKind::kEnd) {
      return CompileError(Peek().location,
                          absl::StrCat("unexpected ", DescribeToken(Peek())),
                          "; is an operator or a comma missing?");
    }
    return root;
  }

 private:
  const Token& Peek(size_t ahead = 0) const {
    return tokens_[std::min(pos_ + ahead, tokens_.size() - 1)];
  }
  const Token& Take() {
    const Token& token = Peek();
    if (pos_ < tokens_.size() - 1) ++pos_;
    return token;
  }
  bool Accept(TokenKind kind) {
    if (Peek().kind != kind) return false;
    Take();
    return true;
  }
  absl::Status Expect(TokenKind kind, absl::string_view what) {
    if (Accept(kind)) return absl::OkStatus();
    return CompileError(
        Peek().location,
        absl::StrCat("expected ", what, ", found ", DescribeToken(Peek())));
  }

  // A node of `kind` over `children`, located at its first child (or at
  // `op_location` for prefix forms).
  absl::StatusOr<NodePtr> Make(NodeKind kind, SourceLocation location,
                               SourceLocation op_location,
                               std::vector<NodePtr> children) {
    auto node = std::make_unique<Node>();
    node->kind = kind;
    node->location = location;
    node->op_location = op_location;
    int height = 0;
    for (const NodePtr& child : children) {
      height = std::max(height, child->height);
    }
    node->height = height + 1;
    node->children = std::move(children);
    if (node->height > kMaxNesting) {
      return CompileError(
          op_location, absl::StrCat("the expression nests more than ",
                                    kMaxNesting, " levels deep; split it up"));
    }
    return node;
  }

  absl::StatusOr<NodePtr> MakeOperator(Operator op, SourceLocation location,
                                       SourceLocation op_location,
                                       std::vector<NodePtr> children) {
    const NodeKind kind =
        children.size() == 1 ? NodeKind::kUnary : NodeKind::kBinary;
    absl::StatusOr<NodePtr> node =
        Make(kind, location, op_location, std::move(children));
    if (node.ok()) (*node)->op = op;
    return node;
  }

  // Guards the recursion depth of prefix operators and parentheses.
  absl::Status Enter(SourceLocation location) {
    if (++depth_ > kMaxNesting) {
      return CompileError(
          location, absl::StrCat("the expression nests more than ", kMaxNesting,
                                 " levels deep; split it up"));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<NodePtr> Or() {
    absl::StatusOr<NodePtr> left = And();
    while (left.ok() && Peek().kind == TokenKind::kOr) {
      const SourceLocation op_location = Take().location;
      absl::StatusOr<NodePtr> right = And();
      if (!right.ok()) return right;
      const SourceLocation location = (*left)->location;
      left = MakeOperator(Operator::kOr, location, op_location,
                          Children(std::move(*left), std::move(*right)));
    }
    return left;
  }

  absl::StatusOr<NodePtr> And() {
    absl::StatusOr<NodePtr> left = Not();
    while (left.ok() && Peek().kind == TokenKind::kAnd) {
      const SourceLocation op_location = Take().location;
      absl::StatusOr<NodePtr> right = Not();
      if (!right.ok()) return right;
      const SourceLocation location = (*left)->location;
      left = MakeOperator(Operator::kAnd, location, op_location,
                          Children(std::move(*left), std::move(*right)));
    }
    return left;
  }

  absl::StatusOr<NodePtr> Not() {
    if (Peek().kind != TokenKind::kNot) return Predicate();
    const SourceLocation op_location = Take().location;
    if (absl::Status status = Enter(op_location); !status.ok()) return status;
    absl::StatusOr<NodePtr> operand = Not();
    --depth_;
    if (!operand.ok()) return operand;
    return MakeOperator(Operator::kNot, op_location, op_location,
                        Children(std::move(*operand)));
  }

  absl::StatusOr<NodePtr> Predicate() {
    absl::StatusOr<NodePtr> left = Concat();
    while (left.ok()) {
      const TokenKind kind = Peek().kind;
      if (const absl::optional<Operator> op = Comparison(kind)) {
        const SourceLocation op_location = Take().location;
        absl::StatusOr<NodePtr> right = Concat();
        if (!right.ok()) return right;
        const SourceLocation location = (*left)->location;
        left = MakeOperator(*op, location, op_location,
                            Children(std::move(*left), std::move(*right)));
        continue;
      }
      const bool negated =
          kind == TokenKind::kNot && (Peek(1).kind == TokenKind::kIn ||
                                      Peek(1).kind == TokenKind::kBetween ||
                                      Peek(1).kind == TokenKind::kLike);
      if (negated) Take();
      switch (Peek().kind) {
        case TokenKind::kIn:
          left = In(std::move(*left), negated);
          continue;
        case TokenKind::kBetween:
          left = Between(std::move(*left), negated);
          continue;
        case TokenKind::kLike:
          left = Like(std::move(*left), negated);
          continue;
        case TokenKind::kIs:
          left = IsNull(std::move(*left));
          continue;
        default:
          break;
      }
      break;
    }
    return left;
  }

  static absl::optional<Operator> Comparison(TokenKind kind) {
    switch (kind) {
      case TokenKind::kEqual:
        return Operator::kEqual;
      case TokenKind::kNotEqual:
        return Operator::kNotEqual;
      case TokenKind::kLess:
        return Operator::kLess;
      case TokenKind::kLessEqual:
        return Operator::kLessEqual;
      case TokenKind::kGreater:
        return Operator::kGreater;
      case TokenKind::kGreaterEqual:
        return Operator::kGreaterEqual;
      default:
        return absl::nullopt;
    }
  }

  absl::StatusOr<NodePtr> In(NodePtr value, bool negated) {
    const SourceLocation op_location = Take().location;
    if (absl::Status status = Expect(TokenKind::kLeftParen, "'(' after IN");
        !status.ok()) {
      return status;
    }
    if (Peek().kind == TokenKind::kRightParen) {
      return CompileError(Peek().location,
                          "the IN list is empty; list at least one value");
    }
    std::vector<NodePtr> children = Children(std::move(value));
    do {
      absl::StatusOr<NodePtr> item = Or();
      if (!item.ok()) return item;
      children.push_back(std::move(*item));
    } while (Accept(TokenKind::kComma));
    if (absl::Status status =
            Expect(TokenKind::kRightParen, "',' or ')' in the IN list");
        !status.ok()) {
      return status;
    }
    return Finish(NodeKind::kIn, op_location, negated, std::move(children));
  }

  absl::StatusOr<NodePtr> Between(NodePtr value, bool negated) {
    const SourceLocation op_location = Take().location;
    absl::StatusOr<NodePtr> low = Concat();
    if (!low.ok()) return low;
    if (absl::Status status =
            Expect(TokenKind::kAnd, "AND between the BETWEEN bounds");
        !status.ok()) {
      return status;
    }
    absl::StatusOr<NodePtr> high = Concat();
    if (!high.ok()) return high;
    return Finish(
        NodeKind::kBetween, op_location, negated,
        Children(std::move(value), std::move(*low), std::move(*high)));
  }

  absl::StatusOr<NodePtr> Like(NodePtr value, bool negated) {
    const SourceLocation op_location = Take().location;
    absl::StatusOr<NodePtr> pattern = Concat();
    if (!pattern.ok()) return pattern;
    return Finish(NodeKind::kLike, op_location, negated,
                  Children(std::move(value), std::move(*pattern)));
  }

  absl::StatusOr<NodePtr> IsNull(NodePtr value) {
    const SourceLocation op_location = Take().location;
    const bool negated = Accept(TokenKind::kNot);
    if (absl::Status status =
            Expect(TokenKind::kNull,
                   negated ? "NULL after IS NOT" : "NULL or NOT NULL after IS");
        !status.ok()) {
      return status;
    }
    return Finish(NodeKind::kIsNull, op_location, negated,
                  Children(std::move(value)));
  }

  absl::StatusOr<NodePtr> Finish(NodeKind kind, SourceLocation op_location,
                                 bool negated, std::vector<NodePtr> children) {
    const SourceLocation location = children[0]->location;
    absl::StatusOr<NodePtr> node =
        Make(kind, location, op_location, std::move(children));
    if (node.ok()) (*node)->negated = negated;
    return node;
  }

  absl::StatusOr<NodePtr> Concat() {
    return LeftAssociative(&Parser::Additive, [](TokenKind kind) {
      return kind == TokenKind::kConcat
                 ? absl::optional<Operator>(Operator::kConcat)
                 : absl::nullopt;
    });
  }

  absl::StatusOr<NodePtr> Additive() {
    return LeftAssociative(&Parser::Multiplicative,
                           [](TokenKind kind) -> absl::optional<Operator> {
                             if (kind == TokenKind::kPlus)
                               return Operator::kAdd;
                             if (kind == TokenKind::kMinus)
                               return Operator::kSubtract;
                             return absl::nullopt;
                           });
  }

  absl::StatusOr<NodePtr> Multiplicative() {
    return LeftAssociative(&Parser::Unary,
                           [](TokenKind kind) -> absl::optional<Operator> {
                             if (kind == TokenKind::kStar)
                               return Operator::kMultiply;
                             if (kind == TokenKind::kSlash)
                               return Operator::kDivide;
                             if (kind == TokenKind::kPercent)
                               return Operator::kModulo;
                             return absl::nullopt;
                           });
  }

  template <typename OperatorOf>
  absl::StatusOr<NodePtr> LeftAssociative(
      absl::StatusOr<NodePtr> (Parser::*next)(), OperatorOf operator_of) {
    absl::StatusOr<NodePtr> left = (this->*next)();
    while (left.ok()) {
      const absl::optional<Operator> op = operator_of(Peek().kind);
      if (!op.has_value()) break;
      const SourceLocation op_location = Take().location;
      absl::StatusOr<NodePtr> right = (this->*next)();
      if (!right.ok()) return right;
      const SourceLocation location = (*left)->location;
      left = MakeOperator(*op, location, op_location,
                          Children(std::move(*left), std::move(*right)));
    }
    return left;
  }

  absl::StatusOr<NodePtr> Unary() {
    if (Peek().kind != TokenKind::kMinus) return Primary();
    const SourceLocation op_location = Take().location;
    if (absl::Status status = Enter(op_location); !status.ok()) return status;
    absl::StatusOr<NodePtr> operand = Unary();
    --depth_;
    if (!operand.ok()) return operand;
    return MakeOperator(Operator::kNegate, op_location, op_location,
                        Children(std::move(*operand)));
  }

  absl::StatusOr<NodePtr> Primary() {
    const Token& token = Peek();
    switch (token.kind) {
      case TokenKind::kNumber:
        return Literal(Value::Number(Take().number), token.location);
      case TokenKind::kString:
        return Literal(Value::String(Take().text), token.location);
      case TokenKind::kTrue:
        Take();
        return Literal(Value::Boolean(true), token.location);
      case TokenKind::kFalse:
        Take();
        return Literal(Value::Boolean(false), token.location);
      case TokenKind::kNull:
        Take();
        return Literal(Value::Null(), token.location);
      case TokenKind::kIdentifier:
        return Name();
      case TokenKind::kLeftParen: {
        const SourceLocation location = Take().location;
        if (absl::Status status = Enter(location); !status.ok()) return status;
        absl::StatusOr<NodePtr> inner = Or();
        --depth_;
        if (!inner.ok()) return inner;
        if (absl::Status status =
                Expect(TokenKind::kRightParen, "')' to close the '('");
            !status.ok()) {
          return status;
        }
        return inner;
      }
      default:
        return CompileError(
            token.location,
            absl::StrCat("expected a value, found ", DescribeToken(token)));
    }
  }

  absl::StatusOr<NodePtr> Literal(const Value& value, SourceLocation location) {
    auto node = std::make_unique<Node>();
    node->SetLiteral(value);
    node->location = location;
    node->op_location = location;
    return node;
  }

  absl::StatusOr<NodePtr> Name() {
    const Token& name = Take();
    if (Peek().kind != TokenKind::kLeftParen) {
      auto node = std::make_unique<Node>();
      node->kind = NodeKind::kVariable;
      node->name = name.text;
      node->location = name.location;
      node->op_location = name.location;
      return node;
    }
    Take();
    std::vector<NodePtr> arguments;
    if (!Accept(TokenKind::kRightParen)) {
      do {
        absl::StatusOr<NodePtr> argument = Or();
        if (!argument.ok()) return argument;
        arguments.push_back(std::move(*argument));
      } while (Accept(TokenKind::kComma));
      if (absl::Status status = Expect(
              TokenKind::kRightParen,
              absl::StrCat("',' or ')' in the arguments of ", name.text));
          !status.ok()) {
        return status;
      }
    }
    absl::StatusOr<NodePtr> node = Make(NodeKind::kCall, name.location,
                                        name.location, std::move(arguments));
    if (node.ok()) (*node)->name = name.text;
    return node;
  }

  template <typename... Nodes>
  static std::vector<NodePtr> Children(Nodes&&... nodes) {
    std::vector<NodePtr> children;
    (children.push_back(std::forward<Nodes>(nodes)), ...);
    return children;
  }

  std::vector<Token> tokens_;
  size_t pos_ = 0;
  int depth_ = 0;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Node>> Parse(absl::string_view source) {
  absl::StatusOr<std::vector<Token>> tokens = Tokenize(source);
  if (!tokens.ok()) return tokens.status();
  return Parser(std::move(*tokens)).Run();
}

}  // namespace parley::expression::internal
