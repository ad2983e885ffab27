// trace half of @ovnsim/ovn (expressions, actions, southbound bundle, ovn-trace): public exports go here.
