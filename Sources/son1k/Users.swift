import ArgumentParser
import Son1kKernel

struct Users: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Manage user accounts.", subcommands: [Create.self, SetRole.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a user.")
        @OptionGroup var options: GlobalOptions
        @Option(help: "E-mail address (the login).") var email: String
        @Option(help: "Public name: 3–32 letters, digits, '.', '_' or '-'.") var username: String
        @Option(help: "Password (at least 8 characters).") var password: String
        @Option(help: "user or admin.") var role: String = "user"

        func run() throws {
            let identity = try KernelTools.identity(try options.load().settings)
            let user = try identity.createUser(email: email, username: username, password: password, role: role)
            say("created \(user.role) \(user.email) (id \(user.id))")
        }
    }

    struct SetRole: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "set-role", abstract: "Make a user an admin, or an admin a user.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The user's e-mail or id.") var user: String
        @Argument(help: "user or admin.") var role: String

        func run() throws {
            let identity = try KernelTools.identity(try options.load().settings)
            let updated = try identity.setRole(userID: user, role: role)
            say("\(updated.email) is now \(updated.role)")
        }
    }
}

struct Tokens: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Manage API tokens.", subcommands: [Create.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a long-lived API token and print it (it is shown only once).",
            discussion: "Worker tokens authenticate external generation workers; admin tokens services; user tokens act as one user (--user)."
        )
        @OptionGroup var options: GlobalOptions
        @Option(help: "worker, admin or user.") var role: String
        @Option(help: "A label to recognise the token by.") var name: String = "cli"
        @Option(help: "E-mail of the user the token acts for (required for --role user).") var user: String?

        func run() throws {
            let identity = try KernelTools.identity(try options.load().settings)
            var userID: String?
            if let user {
                guard let found = try identity.user(email: user) else { throw ValidationError("no user with e-mail \(user)") }
                userID = found.id
            }
            let token = try identity.createToken(name: name, role: role, userID: userID)
            say(token.token)
        }
    }
}
