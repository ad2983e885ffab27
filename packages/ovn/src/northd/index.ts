// northd half of @ovnsim/ovn: public exports go here.
