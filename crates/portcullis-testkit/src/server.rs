pub struct TestServer;
