import Son1kPluginKit

/// The hello plugin's contracts: the example every other plugin's tests build on.
extension Topic where Payload == GreetingDraft {
    /// Hook, inside the transaction that stores a greeting: a subscriber may veto or change the name.
    public static let helloBeforeGreet = Topic("hello.before_greet")
}

extension Topic where Payload == Greeted {
    /// A greeting was stored.
    public static let helloGreeted = Topic("hello.greeted")
}

extension Service where Input == GreetRequest, Output == GreetMessage {
    /// A greeting for a name, stored nowhere.
    public static let helloGreet = Service("hello.greet")
}

/// `hello.before_greet`.
public struct GreetingDraft: Codable, Sendable, Equatable {
    public var id: Int
    public var name: String
    public init(id: Int, name: String) {
        self.id = id
        self.name = name
    }
}

/// `hello.greeted`.
public struct Greeted: Codable, Sendable, Equatable {
    public var id: Int
    public var name: String
    public var message: String
    public var createdAt: String
    public init(id: Int, name: String, message: String, createdAt: String) {
        self.id = id
        self.name = name
        self.message = message
        self.createdAt = createdAt
    }
}

/// `hello.greet`'s input.
public struct GreetRequest: Codable, Sendable, Equatable {
    /// "stranger" when absent.
    public var name: String?
    public init(name: String? = nil) { self.name = name }
}

/// `hello.greet`'s answer.
public struct GreetMessage: Codable, Sendable, Equatable {
    public var message: String
    public init(message: String) { self.message = message }
}
